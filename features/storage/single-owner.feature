Feature: One open store per directory
  A store directory has one owner at a time. The owner holds a LOCK file with
  its process id; anyone else who opens the directory, in the same process
  or another, gets a StoreLockedError naming the owner.

  Rule: A second open of an open store is refused

    Scenario: The same process opens the directory twice
      Given a new store
      When the same directory is opened again
      Then the open was rejected with a StoreLockedError naming this process

    Scenario: After close, the directory can be opened again
      Given a new store
      And "a" has 3 events
      When the store is closed and opened again
      Then reading stream "a" returns 3 events with versions 0 to 2 and positions 0 to 2

  Rule: A closed store refuses to work

    Scenario: Appending to a closed store
      Given a new store
      When the store is closed
      And "a" appends 1 event
      Then the last append was rejected with a StoreClosedError

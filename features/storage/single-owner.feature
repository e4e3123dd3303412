@ownership
Feature: One open store per directory, enforced by the operating system
  A store directory has one owner at a time: the store that holds the
  operating system's exclusive lock on the directory's LOCK file. The kernel
  keeps that lock for as long as the store is open and ends it when the store
  closes or its process dies, however it dies. Anyone else who opens the
  directory — another process, or this same process a second time — is
  refused at once with a StoreLockedError naming the owner's process; an open
  never waits for the lock. (To look at a store someone else owns, open it
  read-only.)

  Rule: A second open of an open store is refused

    @file-only
    Scenario: The same process opens the directory twice
      Given a new store
      When the same directory is opened again
      Then the open was rejected with a StoreLockedError naming this process

    @file-only
    Scenario: Another process holds the store open
      Given a child process that has opened the store and keeps it open
      When this process opens the same store
      Then the open was rejected with a StoreLockedError naming the child process

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

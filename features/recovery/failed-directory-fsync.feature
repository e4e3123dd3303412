@recovery
Feature: A directory fsync that failed is redone by the next open
  A failed fsync stops the store, and the application reopens it. But the
  failed fsync leaves directory entries that only the page cache holds: a new
  segment, the log directory of a new store, the removal of the clean-shutdown
  marker. So every open that may write fsyncs the store's directory, its parent
  and each of its subdirectories first, before it accepts an append — whether or
  not it sees anything to fix. Then a power cut cannot take back what the
  reopened store acknowledges.

  Background:
    Given the store lives on a simulated disk

  Rule: Events acknowledged after a reopen survive a power cut, whatever directory fsync failed before it

    Scenario: The directory fsync of a new segment fails, and the store is reopened
      Given a new store with:
        | segmentSize | 1 KiB |
      And "meter-1" has 40 events
      When the directory fsync of the next new segment fails while 5 events are appended
      And the failed store is closed and opened again
      And "meter-1" gets 3 more events, each acknowledged
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 43 events

    Scenario: The first open of a new store fails to fsync its log directory, and is retried
      Given the first fsync of the log directory will fail
      When a new store is opened on it and the open fails
      And the store is opened again
      And "meter-1" gets 3 more events, each acknowledged
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 3 events

    Scenario: Removing the clean-shutdown marker is not fsynced, and the open is retried
      Given a new store
      And "meter-1" has 1 event
      And the store is closed
      When the next open fails to fsync the store directory after removing the clean-shutdown marker
      And the store is opened again
      And "meter-1" gets 3 more events, each acknowledged
      And the power fails after the disk wrote back every file's data but no unsynced directory change
      And the store is opened after the power comes back
      Then the store opens normally, with 4 events
      And the recovery report says the last shutdown was not clean
      And stream "meter-1" holds exactly 4 events

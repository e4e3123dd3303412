@file-only
Feature: A closed store holds no file open
  Every file eventfold opens — segments for appending and for reading, the
  lock, snapshots, subscription checkpoints — is closed by the store itself,
  at the latest by `close()`. Nothing is left for the garbage collector, so a
  long-lived process that opens and closes stores does not run out of file
  descriptors, and Node never warns about a file handle closed on garbage
  collection.

  Rule: After close, no file of the store is open in the process

    Scenario: A whole store lifecycle on the real disk leaves no file open
      Given a new store with a projection on the real disk
      When 1000 events are appended in appends of 10 over 4 streams
      And two readers read every event at the same time
      And two subscriptions deliver every event at the same time
      And every stream is read backward
      And a checkpoint is taken
      Then the process has files of the store open
      When the store is closed
      Then the process has no file of the store open
      When the store is opened again and every event is read twice at the same time
      And the store is closed
      Then the process has no file of the store open

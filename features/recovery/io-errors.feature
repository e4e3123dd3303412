@recovery
Feature: A failed write or fsync stops the store
  When the disk reports an error, eventfold cannot know what reached it. So
  it fail-stops: the batch in flight and every append queued behind it are
  rejected with a StoreFailedError, and the store refuses all further
  appends until it is reopened. It never retries an fsync: after a failed
  fsync the kernel may already have thrown the unwritten pages away, so a
  second fsync could report success for data that is gone. Reopening runs
  recovery, which cuts any partial bytes away.

  Rule: The disk's error stops the store; reopening restores everything acknowledged

    Scenario Outline: <fault> while 10 appends are in flight
      Given a new store on a simulated disk
      And "meter-1" has 100 events
      When the disk will fail with <fault>
      And 10 callers each append 1 event to their own stream at the same time
      Then all 10 appends were rejected with a StoreFailedError
      And a further append is rejected with a StoreFailedError
      And the log was not fsynced again after the failure
      When the failed store is closed and opened again
      Then stream "meter-1" holds exactly 100 events
      And the positions run from 0 without a gap
      And "meter-1" can still append 1 event expecting version 99

      Examples:
        | fault                                |
        | EIO on the next fsync                |
        | ENOSPC on the next write             |
        | a short write of 10 bytes            |
        | EIO on the next write                |

  Rule: A short write leaves partial bytes that recovery cuts away

    Scenario: 10 bytes of a batch reached the disk before the write fell short
      Given a new store on a simulated disk
      And "meter-1" has 100 events
      When the disk will fail with a short write of 10 bytes
      And "meter-1" appends 5 events
      And the failed store is closed and opened again
      Then the recovery report says 10 bytes of torn tail were truncated
      And stream "meter-1" holds exactly 100 events

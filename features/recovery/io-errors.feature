@recovery
Feature: A failed write or fsync stops the store
  When the disk reports an error, eventfold cannot know what reached it. So
  it fail-stops: the batch in flight and every append queued behind it are
  rejected with a StoreFailedError, and the store refuses all further
  appends until it is reopened. It never retries an fsync: after a failed
  fsync the kernel may already have thrown the unwritten pages away, so a
  second fsync could report success for data that is gone. Reopening runs
  recovery, which cuts any partial bytes away.

  Background:
    Given the store lives on a simulated disk

  Rule: The disk's error stops the store; reopening restores everything acknowledged

    Scenario Outline: <fault> while 10 appends are in flight
      Given a new store
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

  Rule: A rejected append is never visible, before or after a reopen

    The failing store cuts its log back to the end of the last acknowledged
    append and syncs that cut before it reports the failure — not a retry of
    the failed fsync, which could claim lost data as durable, but a removal
    of bytes nobody was promised. Otherwise a reopen in the same machine
    would find the rejected batch whole in the page cache and serve it, and
    a power loss later would take it away again.

    Scenario Outline: <fault> on a 5-event append, then a reopen
      Given a new store
      And "meter-1" has 100 events
      When the disk will fail with <fault>
      And "meter-2" appends 5 events
      Then the last append was rejected with a StoreFailedError
      And reading all events returns 100 events with positions 0 to 99
      When the failed store is closed and opened again
      Then reading all events returns 100 events with positions 0 to 99
      And stream "meter-2" holds exactly 0 events
      And the recovery report shows no torn tail

      Examples:
        | fault                       |
        | EIO on the next fsync       |
        | a short write of 10 bytes   |
        | ENOSPC on the next write    |

    Scenario Outline: EIO on the fsync of a 5-event append, then the power fails and the disk <keeps>
      Given a new store
      And "meter-1" has 100 events
      When the disk will fail with EIO on the next fsync
      And "meter-2" appends 5 events
      And the power fails and the disk <keeps>
      And the store is opened after the power comes back
      Then reading all events returns 100 events with positions 0 to 99
      And stream "meter-2" holds exactly 0 events

      Examples:
        | keeps                      |
        | drops every unsynced write |
        | keeps every unsynced write |

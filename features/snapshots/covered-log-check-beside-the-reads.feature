@snapshot
Feature: The check of a large log a snapshot covers runs beside the reads, and finds the same damage
  The background check of the log a snapshot covers reads every record of
  it. For a large log on the machine's own file system it runs on a thread
  of its own, so that the reads and appends of the opened store do not wait
  behind it; what it checks and what it reports are the same as on the
  store's own thread (see "Damage in the log a snapshot covers is found
  without giving up the fast open"). A small log, or a simulated disk, is
  checked on the store's own thread.

  Rule: On a thread of its own, the check confirms an intact log and finds a damaged one

    Scenario: A large intact log is verified after the fast open
      Given a store of 600,000 events in appends of 10, with a snapshot of all of them
      When the store is opened again
      Then the reopen started from the snapshot at position 599999 and replayed 0 events
      And the background check reports the log verified

    Scenario: One bit flips in an early event of a large log
      Given a store of 600,000 events in appends of 10, with a snapshot of all of them
      When one bit flips in the body of record 150
      And the store is opened again
      Then the reopen started from the snapshot at position 599999 and replayed 0 events
      And the background check reports a CorruptionError naming the segment file and the offset of record 150
      And the store refuses appends with that CorruptionError

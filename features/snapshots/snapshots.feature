@snapshot
Feature: Snapshots let a store reopen from a checkpoint instead of replaying its whole log
  A snapshot holds every projection's state, where each stream's last event
  is, and the log position it covers. It is written beside the log as a
  checksummed file — temp file, fsync, rename, directory fsync — so it is
  either all there or not there at all. Opening a store starts from the newest
  good snapshot and replays only the log after it, so reopening takes as long
  as the tail, not the whole history.

  Snapshots are taken every `snapshotEvery` events and whenever the
  application calls `store.checkpoint()`; the newest `keepSnapshots` are kept.
  The log stays the truth: a snapshot that fails its checks is passed over,
  and one that claims more than the log holds is an error, never a gap.

  Rule: A snapshot plus the log after it gives exactly what a full replay gives

    Scenario: 3,000 events with a checkpoint after 2,000: the reopen replays only the last 1,000
      Given a new store with a "totals" projection that counts events and sums their amounts
      And 2000 events are appended over 20 streams
      And a checkpoint is taken
      And 1000 more events are appended over 20 streams
      When the store is closed and opened again
      Then the reopen started from the snapshot at position 1999 and replayed 1000 events
      And the "totals" state counts 3000 events, the same as a full replay of the log
      And each of the 20 streams reads back whole, in version order

    Scenario: A snapshot is taken automatically every 500 events
      Given a new store with:
        | snapshotEvery | 500 |
      When 1200 events are appended in appends of 100
      Then the snapshots on disk cover positions 999 and 499

    Scenario: A snapshot is taken automatically every 16 KiB of log
      Given a new store with:
        | snapshotEvery      | 0      |
        | snapshotEveryBytes | 16 KiB |
        | keepSnapshots      | 100    |
      When 1200 events are appended in appends of 100
      Then a snapshot was taken each time 16 KiB more of log had been written

  Rule: Only the newest snapshots are kept

    Scenario: After 5 checkpoints only the newest 2 remain
      Given a new store with:
        | keepSnapshots | 2 |
        | snapshotEvery | 0 |
      When 5 checkpoints are taken, each after 100 more events
      Then the snapshots on disk cover positions 499 and 399

    Scenario: A temporary snapshot file left by a crash is removed on open
      Given a store with 300 events and snapshots at positions 99 and 199
      And a half-written temporary snapshot file is left in the snapshots folder
      When the store is opened again
      Then the recovery report lists the temporary snapshot file as removed
      And the reopen started from the snapshot at position 199 and replayed 100 events

  Rule: A damaged snapshot is passed over, never trusted

    Background:
      Given a store with 300 events and snapshots at positions 99 and 199

    Scenario: The newest snapshot fails its checksum: the one before it is used
      When a byte in the middle of the snapshot at position 199 is flipped
      And the store is opened again
      Then the reopen started from the snapshot at position 99 and replayed 200 events
      And the recovery report says the snapshot at position 199 was skipped because "snapshot fails its checksum"
      And the "totals" state counts 300 events, the same as a full replay of the log

    Scenario: Every snapshot is damaged: the whole log is replayed
      When a byte in the middle of the snapshot at position 199 is flipped
      And a byte in the middle of the snapshot at position 99 is flipped
      And the store is opened again
      Then the reopen used no snapshot because "no snapshot passed its checks" and replayed 300 events
      And the "totals" state counts 300 events, the same as a full replay of the log

  Rule: A crash while a snapshot is written leaves a usable snapshot behind

    Scenario Outline: The power is cut at the <step> of a new snapshot
      Given a store on a simulated disk that keeps 1 snapshot, with 200 events and a snapshot at position 99
      When the power is cut during the next checkpoint, at the <step>
      And the store is opened after the power comes back
      Then the reopen started from the snapshot at position <used> and replayed <replayed> events
      And no temporary snapshot file is left
      And the "totals" state counts 200 events, the same as a full replay of the log

      Examples:
        | step                                      | used | replayed |
        | write of the temporary snapshot file      | 99   | 100      |
        | fsync of the temporary snapshot file      | 99   | 100      |
        | rename of the snapshot into place         | 99   | 100      |
        | directory fsync after the snapshot rename | 99   | 100      |
        | removal of the oldest snapshot            | 199  | 0        |

  Rule: A projection whose version changed is rebuilt from the log

    Scenario: "totals" goes from version 1 to version 2, which counts every event twice
      Given a store with 300 events and snapshots at positions 99 and 199
      When the store is opened again with "totals" at version 2, counting every event twice
      Then the reopen used no snapshot because "projection \"totals\" is version 2, the snapshot holds version 1" and replayed 300 events
      And the "totals" state counts 600 events

  Rule: A snapshot never hides lost events

    Background:
      Given a store with 300 events and snapshots at positions 99 and 199

    Scenario: The log holds fewer events than the snapshot covers
      When the log is cut back to its first 150 events
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "acknowledged events are missing from the log"

    Scenario: A repair that cuts the log also sets aside the snapshots that covered what it cut
      When one bit flips in the body of record 150
      And the store is opened again with repair "truncate"
      Then the store holds 149 events and its "totals" state counts 149 events
      And the snapshot at position 199 was moved to the quarantine folder and the one at position 99 kept

  Rule: Appends go on while a snapshot is written

    Scenario: 100 appends made while a checkpoint is being written are all acknowledged after it
      Given a store with 300 events and snapshots at positions 99 and 199
      When a checkpoint starts and 100 single-event appends are made before it completes
      Then the checkpoint covers position 299
      And all 100 appends are acknowledged at positions 300 to 399
      And after a reopen the store replays exactly those 100 events

  Rule: A state a snapshot cannot hold is refused, not mangled

    Scenario: A projection whose state holds a class instance cannot be snapshotted
      Given a new store with a "balance" projection that keeps its total as a Money object
      And 10 events are appended over 2 streams
      When a checkpoint is attempted
      Then the checkpoint was rejected with an InvalidInputError saying "is a Money object"
      And no snapshot file was written

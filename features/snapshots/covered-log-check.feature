@snapshot
Feature: Damage in the log a snapshot covers is found without giving up the fast open
  Opening from a snapshot reads only the log after it, which is what keeps a
  reopen of millions of events fast. The segments the snapshot covers are
  then checked in the background, exactly as a full open checks them: every
  record's checksum, position, stream version and chain link, up to the
  snapshot's log end. `store.health` says where that check is;
  `store.verified()` waits for it; `onCorruption` is called if it finds
  damage. Damage found this way is treated as the open would have treated
  it: the store refuses appends with the CorruptionError (reads of intact
  events go on) until it is reopened with `repair: 'truncate'`.

  `verifyOnOpen: 'full'` does that check inside the open instead, which then
  fails like an open without a snapshot. `eventfold recover` opens that way,
  so `info`, `verify` and `recover` all report the same damage.

  The same check then compares what the snapshot says of every stream — its
  last version and the place of its last event, the hash table the names
  are found through, where every 256th position starts — with what its scan
  of the covered log rebuilt: a snapshot rewritten with its checksum
  recomputed (a faulty writer, another implementation, a hand edit) passes
  every check an open makes, but cannot hide a stream's events.

  Background:
    Given a store with 300 events and snapshots at positions 99 and 199

  Rule: The background check confirms an intact log and finds a damaged one

    Scenario: An intact log is verified after the fast open
      When the store is opened again
      Then the reopen started from the snapshot at position 199 and replayed 100 events
      And the background check reports the log verified

    Scenario: One bit flips in an event the newest snapshot covers
      When one bit flips in the body of record 150
      And the store is opened again with an onCorruption callback
      Then the reopen started from the snapshot at position 199 and replayed 100 events
      And the background check reports a CorruptionError naming the segment file and the offset of record 150
      And the store's onCorruption callback was called once, with that error
      And the store refuses appends with that CorruptionError
      And the events from position 260 on still read back

  Rule: A full check on open fails the open, as without a snapshot

    Scenario: The same damage with verifyOnOpen "full"
      When one bit flips in the body of record 150
      And the store is opened again with verifyOnOpen "full"
      Then the open fails with a CorruptionError naming the segment file and the offset of record 150

  Rule: info, verify and recover agree about damage under a snapshot

    Scenario: Each command reports the flipped bit
      When one bit flips in the body of record 150
      And the operator runs "eventfold verify" on the store
      Then the command exits with 2 and says "record fails its checksum"
      When the operator runs "eventfold info" on the store
      Then the command exits with 2 and says "record fails its checksum"
      And it says "segments:       1"
      When the operator runs "eventfold recover" on the store
      Then the command exits with 2 and says "record fails its checksum"

  Rule: Nothing is acknowledged, closed cleanly or backed up on a log not yet known to be intact

    Scenario: An append made while the background check is still running waits for it, and is refused
      When one bit flips in the body of record 150
      And the store is opened again
      And an event is appended at once, while the background check is still running
      Then that append is refused with the background check's CorruptionError and nothing was written
      And a backup of the store is refused with that CorruptionError
      And closing the store leaves no clean-shutdown marker

  Rule: A snapshot that says otherwise than its log is found, named with the stream, and set aside by a repair
    Such a snapshot is reported as damage: the store refuses appends until a
    repair (`repair: 'truncate'`, `eventfold recover --repair truncate`),
    which reads the whole log, cuts nothing for it, and moves the snapshot to
    quarantine/. The next open starts from the snapshot before it, or
    replays the whole log.

    Background:
      Given "order-7" appends 6 events and a checkpoint is taken, at position 305

    Scenario Outline: The newest snapshot, rewritten with a valid checksum, <lie>
      When the snapshot at position 305 is rewritten with a valid checksum so that it <lie>
      And the store is opened again
      Then the reopen started from the snapshot at position 305 and replayed 0 events
      And the background check reports a CorruptionError naming the snapshot at position 305 and saying '<finding>'
      And the store refuses appends with that CorruptionError
      When the store is closed
      And the store is opened again with repair "truncate"
      Then the recovery report says the snapshot at position 305 was skipped because "does not match the log"
      And reading "order-7" forward returns 6 events, versions 0 to 5
      When the store is closed and opened again
      Then the reopen started from the snapshot at position 199 and replayed 106 events
      And the background check reports the log verified
      And reading "order-7" forward returns 6 events, versions 0 to 5

      Examples:
        | lie                                                                        | finding                                                                                       |
        | says "order-7" ends at version 3                                           | says stream "order-7" ends at version 3 (position 303                                         |
        | has no stream "order-7"                                                    | has no stream "order-7", but the log it covers holds that stream up to version 5 (position 305) |
        | has a name table that cannot find "order-7"                                | holds stream "order-7" (row 3), but its hash table does not find that name                    |
        | names "order-7" twice                                                      | names stream "order-7" twice                                                                  |
        | holds a stream "order-8" the log never had, at version 0 and position 300 | says stream "order-8" ends at version 0 (position 300), but the log it covers holds no event of that stream |

    Scenario: verifyOnOpen "full", eventfold verify, info and recover name the snapshot and the stream
      When the snapshot at position 305 is rewritten with a valid checksum so that it says "order-7" ends at version 3
      And the store is opened again with verifyOnOpen "full"
      Then the open fails with a CorruptionError naming the snapshot at position 305 and saying 'says stream "order-7" ends at version 3'
      When the operator runs "eventfold verify" on the store
      Then the command exits with 2 and says 'says stream "order-7" ends at version 3'
      When the operator runs "eventfold info" on the store
      Then the command exits with 2 and says 'says stream "order-7" ends at version 3'
      When the operator runs "eventfold recover" on the store
      Then the command exits with 2 and says 'says stream "order-7" ends at version 3'
      When the operator runs "eventfold recover --repair truncate" on the store
      Then the command exits with 0 and says "does not match the log"
      When the operator runs "eventfold verify" on the store
      Then the command exits with 0 and says "is healthy"

    Scenario: A snapshot of 70,000 streams is verified, and one it holds no row of is named
      Given 70000 streams of 1 event each are appended, and a checkpoint is taken at position 70305
      When the store is opened again
      Then the reopen started from the snapshot at position 70305 and replayed 0 events
      And the background check reports the log verified
      When the store is closed
      And the snapshot at position 70305 is rewritten with a valid checksum so that it has no stream "s-69000"
      And the store is opened again
      Then the background check reports a CorruptionError naming the snapshot at position 70305 and saying 'has no stream "s-69000", but the log it covers holds that stream up to version 0'

  Rule: A healthy store is never called damaged, whatever deletion, retention and scavenges did to its streams
    A stream whose every event a scavenge removed stays known to the store
    that removed them, and so to the snapshots it takes, while the log holds
    none of its events; the last event a scavenge keeps of a stream moves
    within its segment. The check tells these apart from a snapshot that
    hides events.

    Scenario Outline: <change>, a scavenge and a checkpoint; the reopen from that checkpoint is verified
      Given the store is opened again
      And "order-7" holds 6 events and "order-8" 4 events
      And <change>
      And the store is scavenged
      And a checkpoint is taken
      When the store is closed and opened again
      Then the reopen started from the snapshot at position 311 and replayed 0 events
      And the background check reports the log verified
      And eventfold verify says the store is healthy
      And reading "order-7" forward returns <kept> events, versions <first> to 5

      Examples:
        | change                                           | kept | first |
        | "order-7" is deleted for good                     | 0    | 0     |
        | "order-7" is deleted                              | 0    | 0     |
        | the metadata of "order-7" is set to maxCount 2    | 2    | 4     |
        | the metadata of "order-7" is set to truncateBefore 3 | 3 | 3     |

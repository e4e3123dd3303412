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

@snapshot
Feature: A snapshot is used only where the log confirms it
  A snapshot records where the part of the log it covers ends, and the last
  record it covers: its place, its length and a checksum of its bytes. Before
  an open trusts a snapshot it reads that one record back: the recorded end
  must be the end of a whole record that carries the snapshot's last
  position, closes its append (COMMIT), and is byte for byte the record the
  snapshot saw. A snapshot that fails this is passed over and reported, and
  the open falls back to an older one or to a full replay — the log stays
  the truth. A log that is shorter than a snapshot says acknowledged events
  are gone: that fails the open.

  Background:
    Given a store with 300 events and snapshots at positions 99 and 199

  Rule: A recorded log end the log does not confirm is never trusted

    Scenario Outline: The newest snapshot's recorded log end is <how>
      When the recorded log end of the snapshot at position 199 is moved <shift>
      And the store is opened again
      Then the reopen started from the snapshot at position 99 and replayed 200 events
      And the recovery report says the snapshot at position 199 was skipped because "<reason>"
      And the "totals" state counts 300 events, the same as a full replay of the log

      Examples:
        | how                              | shift                       | reason                       |
        | 3 bytes too far                  | 3 bytes forward             | is not the end of its last record |
        | one record too early             | back by one record          | is not the end of its last record |
        | pointing at a different record   | with its last record        | has position 198, not 199    |

    Scenario: The record at the snapshot's log end is not byte for byte the one the snapshot saw
      When the checksum the snapshot at position 199 holds of its last record no longer matches the log
      And the store is opened again
      Then the reopen started from the snapshot at position 99 and replayed 200 events
      And the recovery report says the snapshot at position 199 was skipped because "is not the one the snapshot saw"

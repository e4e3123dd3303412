@recovery
Feature: A repair is a transaction that survives a power cut at any step
  `repair: 'truncate'` cuts a damaged log at the end of the last whole append
  before the damage. Before it changes anything it writes down its whole
  decision in the quarantine folder: where the log is cut, which bytes and
  segments are set aside, which snapshots covered the cut events and which
  subscription checkpoints lie past the new end. Then it carries out each step
  and only then marks the repair done. Any later open — plain or repairing —
  that finds an unfinished repair record finishes that same decision first, so
  repeated opens always arrive at the same store.

  Every snapshot covering a cut event is set aside (it would bring the cut
  events back), and every subscription checkpoint past the new end is reset
  to it (the positions after it will belong to new events), in the same
  repair, and the recovery report says which.

  Background:
    Given a store on a simulated disk with 100 events, a checkpoint, and subscription "mailer" that handled all of them
    And one bit flips in record 50 of that store

  Rule: Repeated opens converge, wherever the power was cut

    Scenario Outline: The power is cut at each disk operation of the repair, and the disk <policy>
      When the repair is cut by a power loss at each of its disk operations in turn and the disk <policy>
      Then every run ends with the first 49 events, then the 60 appended after the repair, each intact
      And some runs were finished by the plain open from the repair record, and the others by repairing again

      Examples:
        | policy                                     |
        | drops every unsynced write                 |
        | keeps every unsynced write                 |
        | keeps only half of the last unsynced write |

    Scenario: The power is cut during the repair and again while the next open finishes it
      When the repair is cut at each of its fsync points, and the open that finishes it is cut at each of its own
      Then every run converged on that store

  Rule: A damaged repair record is never guessed around

    Scenario: The repair record of an interrupted repair is damaged
      When the power is cut during the repair just after its record is written
      And the repair record is damaged
      And the store is opened plainly
      Then the open fails with a CorruptionError naming the repair record and saying "open with repair: 'truncate'"
      And after a repairing open the store converges as if nothing had been interrupted

  Rule: A read-only open never reads a half-repaired log as if it were whole

    Scenario: A read-only open of a store whose repair was interrupted
      When the power is cut during the repair just after its record is written
      And the store is opened read-only
      Then the open fails with a CorruptionError naming the repair record and saying "open the store for writing (not read-only) to finish it"
      And after a plain open the store converges as if nothing had been interrupted

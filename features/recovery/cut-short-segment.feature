@recovery
Feature: A segment cut short on a record boundary is named, never skipped
  A segment that is not the last ends where the next one starts: the
  positions in between are acknowledged events. A file cut short on a record
  boundary still holds only valid records, so nothing but the positions can
  tell that events are missing. Only a scavenge may leave positions out (it
  removed those events, and says so in the segment's header); any other gap
  is named as corruption — by the open, or by the read that reaches it when a
  snapshot let the open skip that segment.

  Background:
    Given a store on a simulated disk whose segments roll every 4 KiB

  Scenario: A segment a snapshot covers is cut short: reading it fails with a CorruptionError
    Given 300 events were appended, a checkpoint taken after the first 200, and the store closed cleanly
    When the first segment is cut short after its 10th record
    And the damaged store is opened
    Then the open says the covered log is checked in the background
    And reading all events fails with a CorruptionError naming the first segment

  Scenario: A scavenged segment is cut short: the open fails with a CorruptionError
    Given 300 events were appended to 3 streams, one of them deleted and the store scavenged and closed cleanly
    When the first segment is cut short after its 10th record
    And the damaged store is opened
    Then the open failed with a CorruptionError naming the first segment

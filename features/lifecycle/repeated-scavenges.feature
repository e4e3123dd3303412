@file-only
Feature: Scavenges run again and again do not grow the store
  A scavenge seals the segment being appended to, so that it can be
  scavenged too, and appends a record of itself to the next one. A segment
  holding nothing but such records has nothing to scavenge: it is not
  sealed again. A store scavenged every hour keeps its number of segment
  files (and of open files in every reader) instead of gaining one each time.

  Scenario: 200 scavenges of a store of 2 events leave 2 segment files
    Given a new store
    And "orders" has 2 events
    When the store is scavenged 200 times
    Then the log has 2 segment files
    And reading "orders" forward returns 2 events, versions 0 to 1
    When the store is closed and opened again
    Then reading "orders" forward returns 2 events, versions 0 to 1

@file-only
Feature: eventfold info shows deleted streams, retention settings and reclaimable bytes
  Removed events stay on the disk until a scavenge takes them off. `info`
  shows which streams were deleted, each stream's retention settings, how
  many of its events reads no longer return, and the bytes they take: what a
  scavenge would give back. It opens the store read-only and changes nothing.

  Scenario: A stream with maxCount 100 of 1,000 events and a hard-deleted stream
    Given a new store
    And "sensor-1" has 1000 events
    And "cart-9" has 40 events
    And the metadata of "sensor-1" is set to maxCount 100
    And "cart-9" is deleted for good
    When the store is closed
    And the operator runs "eventfold info" on the store
    Then the command exits with 0 and says "deleted:        cart-9 (hard)"
    And it says "sensor-1 [maxCount 100]: 900 events removed"
    And it says "cart-9 (deleted for good): 40 events removed"
    And the reclaimable bytes it shows are those of 940 of the store's events
    And every file of the store is byte for byte as it was

  Scenario: The stream count leaves out the store's own stream and the deleted streams, and counts one appended to again
    Given a new store
    And "sensor-1" has 1000 events
    And "orders" has 5 events
    And "cart-9" has 40 events
    And "old-7" has 3 events
    And "reused-2" has 4 events
    And the metadata of "sensor-1" is set to maxCount 100
    And "cart-9" is deleted for good
    And "old-7" is deleted
    And "reused-2" is deleted
    And "reused-2" appends 1 event
    When the store is closed
    And the operator runs "eventfold info" on the store
    Then the command exits with 0 and says "streams:        3"
    When the operator runs "eventfold info --json" on the store
    Then the command exits with 0 and says "\"streams\": 3"

  Scenario: The stream count leaves out a stream whose every event is older than its maxAge
    Given a new store
    And the clock is set back by 2 hours
    And "sensor-7" has 3 events
    And the clock is right again
    And "orders" has 5 events
    And the metadata of "sensor-7" is set to maxAge 3600000 ms
    When the store is closed
    And the operator runs "eventfold info" on the store
    Then the command exits with 0 and says "streams:        1"

  Scenario: A soft-deleted stream, truncateBefore and maxAge, and what a scavenge leaves to reclaim
    Given a new store
    And "old-7" has 3 events
    And "ledger-1" has 50 events
    And "ledger-2" has 4 events
    And "old-7" is deleted
    And the metadata of "ledger-1" is set to truncateBefore 40
    And the metadata of "ledger-2" is set to maxAge 3600000 ms
    When the store is closed
    And the operator runs "eventfold info" on the store
    Then the command exits with 0 and says "deleted:        old-7 (soft)"
    And it says "old-7 (deleted): 2 events removed"
    And it says "ledger-1 [truncateBefore 40]: 40 events removed"
    And it says "ledger-2 [maxAge 3600000 ms]: 0 events removed, 0 bytes"
    When the operator runs "eventfold scavenge" on the store
    And the operator runs "eventfold info" on the store
    Then it says "reclaimable:    0 bytes (0 removed events a scavenge would take off the disk)"

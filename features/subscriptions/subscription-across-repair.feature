@subscription @file-only
Feature: A subscription misses nothing when a repair cuts the log under it
  A repair that cuts the log gives the cut positions to the events appended
  after it. A subscription whose checkpoint lay past the new end would skip
  them, so the repair resets that checkpoint to the new end and reports it:
  the subscription then receives every new event, once.

  Scenario: Positions 9 to 29 are cut; the 20 events appended after the repair are all delivered
    Given a store with 30 events, one per append, and subscription "mailer" that handled all of them
    When one bit flips in the body of record 10
    And the store is opened again with repair "truncate"
    Then the recovery report says checkpoint "mailer" was reset from position 29 to position 8
    When 20 new events are appended after the repair
    Then subscription "mailer" resuming from its checkpoint receives positions 9 to 28, each exactly once

@recovery
Feature: A replay names damage at the record it is in, whichever thread checked it
  A replay of a large log (`readAll`, `readAllPages`) hands the CRC checks
  of each block it reads (from 64 KiB) to a worker thread, which checks the
  block's records ahead of the reader while the reader decodes them. The
  reader skips the CRCs only of records the worker has passed, and checks
  every other record itself: those the worker has not reached yet, the one
  it stopped at, all of them when no worker runs. So a replay returns
  exactly the events before a damaged record, then fails with that record's
  CorruptionError, as a reader checking alone would.

  Background:
    Given a store with 20000 events in appends of 1000 and a snapshot of all of them, closed cleanly

  Scenario: A bit flipped in the middle of a log a snapshot covers stops a replay at that record
    When one bit flips in the body of record 12345
    And the store is opened again with an onCorruption callback
    Then reading all events returns events as appended, none past the first 12344, then fails with the CorruptionError of record 12345
    And reading all events a page at a time returns the same events, then fails with the same CorruptionError

  Scenario: An intact log of many blocks replays whole
    When the store is opened again with an onCorruption callback
    Then reading all events returns the 20000 events as appended

  Scenario: The check worker passes every record before the damaged one and stops at it
    When one bit flips in the body of record 12345
    Then the check worker, given the whole damaged segment as one block, passes exactly the records before record 12345

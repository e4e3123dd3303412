@snapshot
Feature: Automatic snapshots land where the schedule says, however slow the disk
  With `snapshotEvery: 500` a snapshot falls due once 500 events have been
  appended since the previous one; it is taken at the end of the batch that
  crosses that mark, capturing the store as it is at that moment. Writing it
  happens in the background while appends carry on. If the previous snapshot
  is still being written when the next falls due, the next is captured right
  away and written as soon as the previous one is done — it is never skipped
  or moved to a later position. (Should yet another fall due while one is
  already waiting, the waiting one is replaced by the newer capture, so at
  most two snapshots are ever held in memory.)

  Background:
    Given a new store that takes a snapshot every 500 events, on a disk where snapshot writes wait until released

  Rule: Each snapshot covers the first batch boundary at or past its mark

    Scenario: A snapshot due while the previous one is still being written keeps its own position
      When 1200 events are appended in appends of 100 while the first snapshot is still being written
      And the snapshot writes are released and the store is closed
      Then the snapshots on disk cover positions 999 and 499

    Scenario: Two snapshots due while the first is still being written: the newer one is written
      When 1700 events are appended in appends of 100 while the first snapshot is still being written
      And the snapshot writes are released and the store is closed
      Then the snapshots on disk cover positions 1499 and 499

@postgres
Feature: On PostgreSQL a reader never skips a committed event
  Readers page through the log by position: `readAll({ from: last + 1 })`.
  Where positions come from a sequence, a transaction can take a smaller
  position than another and commit after it; a reader polling in between
  sees the larger position, moves past the smaller one, and never sees that
  event. eventfold's PostgreSQL log takes positions from one counter row that
  the append transaction keeps locked until it commits: a transaction can
  take its positions only once every transaction before it has committed or
  rolled back, so commit order is position order and positions have no gaps.

  Background:
    Given a store on PostgreSQL whose log holds 3 events

  Rule: A transaction takes its positions only after the one before it committed

    Scenario: A reader polling while two appends race misses nothing
      Given another session's append transaction has taken position 3 and is held open before its commit
      When the store appends 1 event to "late" while that transaction is still open
      Then that append waits for the position counter
      And a reader polling all events from position 3 finds none
      When the held transaction commits
      Then the store's append is acknowledged at position 4
      And a reader polling all events from position 3 finds positions 3 and 4

  Rule: A transaction that rolls back leaves no gap

    Scenario: An append transaction rolled back consumes no position
      Given another session's append transaction has taken position 3 and is held open before its commit
      When the store appends 1 event to "late" while that transaction is still open
      And the held transaction rolls back
      Then the store's append is acknowledged at position 3
      And reading all events returns 4 events with positions 0 to 3

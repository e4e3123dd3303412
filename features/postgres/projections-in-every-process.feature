@postgres
Feature: On PostgreSQL every process folds the one global order
  Each process that opens the store runs its own projections. Its own
  appends are folded when they are acknowledged; other processes' events
  are folded when it learns of them (a notification, a poll, `refresh()`),
  in their place in the global order, so every process reaches the same
  state. Snapshots of the states are stored in PostgreSQL: a new instance
  starts from the newest one and folds only the events after it.

  Background:
    Given a new store with a "balances" projection that sums deposits per account

  Rule: Every process reaches the same state from the same global order

    Scenario: Deposits of two processes make the same balance in both
      Given a second store on the same database with the same projection
      When "account-1" deposits 5 and then 7
      And the second store deposits 30 to "account-1"
      And both stores refresh
      Then the "balances" state says "account-1" holds 42
      And the second store's "balances" state says "account-1" holds 42

    Scenario: An append refused by another process's append leaves nothing in the state
      Given a second store on the same database with the same projection
      And "account-1" deposits 5 and then 7
      When the second store deposits 30 to "account-1" expecting version 1
      And "account-1" deposits 100 expecting version 1
      Then the last append was rejected with an ExpectedVersionConflictError
      When "account-1" deposits 1 expecting version 2
      And both stores refresh
      Then the "balances" state says "account-1" holds 43
      And the second store's "balances" state says "account-1" holds 43

  Rule: A new instance starts from the newest snapshot stored in PostgreSQL

    Scenario: A new instance folds only the 10 events after the snapshot of 1,000
      Given "account-1" has made 1000 deposits of 1
      And a checkpoint is taken
      And "account-1" has made 10 deposits of 1
      When a second store opens the database with the same projection
      Then it started from the snapshot at position 999 and folded 10 events
      And the second store's "balances" state says "account-1" holds 1010

Feature: Projections fold every event into state the application reads at once
  A projection is an initial state and an `evolve(draft, event)` function,
  registered when the store is opened. eventfold folds every appended event
  into it with immer — each append into an open draft when it is accepted,
  the draft finished once per written batch, not once per event — and
  `store.state(name)` returns the result synchronously, frozen, once the
  batch is durable. A projection also checks appends: if `evolve` throws, the
  append is refused with a ProjectionError and nothing is written. On open,
  projections start from the newest snapshot and fold the log after it (see
  the snapshot features).

  A stream can also be folded on demand, up to any version — its state as it
  was then.

  Rule: State includes exactly the acknowledged appends

    Scenario: Two deposits of 5 and 7 make a balance of 12
      Given a new store with a "balances" projection that sums deposits per account
      When "account-1" deposits 5 and then 7
      Then the "balances" state says "account-1" holds 12
      And the "balances" state cannot be changed by the application

    Scenario: An append in flight is not in the state until it is acknowledged
      Given a new store with a "balances" projection that sums deposits per account
      And "account-1" deposits 5 and then 7
      When "account-1" starts a deposit of 30
      Then the "balances" state says "account-1" holds 12
      When that deposit is acknowledged
      Then the "balances" state says "account-1" holds 42

  Rule: A projection that refuses an event refuses the append

    Scenario: A withdrawal that would overdraw is refused and nothing is written
      Given a new store with a "balances" projection that sums deposits per account and refuses overdrafts
      And "account-1" deposits 5 and then 7
      When "account-1" tries to withdraw 20
      Then the last append was rejected with a ProjectionError
      And the store still holds 2 events
      And the "balances" state says "account-1" holds 12

  Rule: Projections are rebuilt from the log on open

    @file-only
    Scenario: After a power loss the state is rebuilt from exactly the acknowledged events
      Given a new store on a simulated disk with a "balances" projection that sums deposits per account
      And "account-1" deposits 5 and then 7
      When the power fails and unsynced writes are lost
      And the store is opened again with the same projection
      Then the "balances" state says "account-1" holds 12

  Rule: Any stream can be folded on demand, up to any version

    Scenario: The balance of "account-1" as it was at version 1
      Given a new store
      And "account-1" deposits 5, 7 and 30
      When "account-1" is folded up to version 1
      Then the folded balance is 12

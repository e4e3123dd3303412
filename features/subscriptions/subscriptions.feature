@subscription
Feature: Subscriptions deliver every event in order and resume after a crash
  A subscription is a named consumer of the global log: a read model, an
  outbox, a long batch job. It first catches up from its stored checkpoint,
  then receives new events as they become durable. Its checkpoint is stored
  atomically every N events and when it stops, so after a crash it resumes
  from the last checkpoint: delivery is at least once, never with a gap or
  out of order, and at most one checkpoint interval is delivered again.

  Rule: A subscription catches up, then follows live, in global order

    Scenario: 5 events before subscribing and 3 after are all delivered in order
      Given a new store
      And "ledger" has 5 events
      When subscription "mailer" starts from the beginning
      And "ledger" appends 3 events
      Then subscription "mailer" has handled positions 0 to 7 in order
      And subscription "mailer" is at position 7 with a lag of 0

  Rule: A stopped subscription resumes from its checkpoint

    Scenario: After a close and a reopen only the 3 new events are delivered
      Given a new store
      And "ledger" has 5 events
      And subscription "mailer" has handled the first 5 events
      When the store is closed and opened again
      And "ledger" appends 3 events
      And subscription "mailer" resumes from its checkpoint
      Then subscription "mailer" has handled positions 5 to 7 in order

  Rule: A handler that throws stops only its own subscription

    Scenario: One handler fails on position 3; the store and another subscription carry on
      Given a new store
      And "ledger" has 5 events
      When subscription "fragile" starts with a handler that throws on position 3
      And subscription "steady" starts from the beginning
      And "ledger" appends 2 events
      Then subscription "fragile" stopped with its handler's error, at position 2
      And subscription "steady" has handled positions 0 to 6 in order

  Rule: A consumer killed half-way finishes from its checkpoint

    @slow
    Scenario: A consumer of 1,000,000 events, checkpointing every 10,000, is killed with SIGKILL after 500,000
      Given a store holding 1000000 events for a consumer
      When a child process consumes them as "report-job", checkpointing every 10000, and is killed with SIGKILL after 500000
      And subscription "report-job" resumes from its checkpoint in this process
      Then it resumes no later than the first event the child did not finish
      And it redoes at most 10000 events the child had already handled
      And it then handles every event up to position 999999 in order

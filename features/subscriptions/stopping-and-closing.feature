@subscription
Feature: A store closes, and a subscription stops, in every state
  `close()` stops every live subscription before it waits for anything
  else, so a subscription that has caught up never keeps the store from
  closing; it resumes from its checkpoint after the next open. `stop()`
  also works from inside the subscription's own handler, and when the last
  checkpoint cannot be stored, `stop()` says so instead of pretending (on the
  file log a failed write of a checkpoint stops the store, as any failed
  write does; see features/subscriptions/checkpoint-disk-faults.feature).

  Rule: close() stops live subscriptions first

    Scenario: Closing with a caught-up subscription while 20 appends are still queued
      Given a store whose batches hold 1 event, with subscription "mailer" caught up at position 9
      When 20 more single-event appends are made and the store is closed without waiting for them
      Then every one of the 20 appends is acknowledged and the close completes
      And the store reopens after a clean shutdown at position 29
      And subscription "mailer" resumes from its checkpoint and handles every event up to position 29 in order

    Scenario: A subscription started while the store closes does not outlive it
      Given a store whose batches hold 1 event, with subscription "mailer" caught up at position 9
      When subscription "late" is started and the store is closed before it has started
      Then starting "late" is refused with a StoreClosedError and the close completes

  Rule: stop() works from inside the handler, and never hides a checkpoint it could not store

    Scenario: A handler that stops its own subscription at position 4
      Given a store whose batches hold 1 event, with 10 events
      When subscription "auditor" starts with a handler that awaits its own stop at position 4
      Then subscription "auditor" finishes at position 4 with its checkpoint stored there
      And the store closes

    @file-only
    Scenario: The last checkpoint cannot be stored when the subscription stops
      Given a store whose batches hold 1 event, with 10 events
      And subscription "mailer" has handled all 10 events, checkpointing every 1,000
      When the disk refuses the next checkpoint and subscription "mailer" is stopped
      Then the stop is refused with a StoreFailedError: a failed write stops the store, as an append's does
      And once the store is opened again, subscription "mailer" started again delivers positions 0 to 9 again

@subscription
Feature: A subscription stops when asked, owns its name, and never guesses its checkpoint
  `await subscription.stop()` resolves in every state — waiting for new
  events, catching up, or in the middle of a handler (then once the handler
  returns) — stores the checkpoint and frees the name, so the obvious shutdown
  `await sub.stop(); await store.close()` never hangs. One name, one live
  subscription: a second `subscribe` under a running name is refused.

  The checkpoint file carries a checksum. A damaged one is never silently
  replaced by "from the beginning": `subscribe` rejects with a
  SubscriptionCheckpointError naming the file and the way out, and the store
  itself opens normally. A checkpoint past the log's end (its events were
  lost) is reset to the end, so new events are not skipped.

  Background:
    Given a new store
    And "ledger" has 5 events

  Rule: stop() resolves in every state and frees the name

    Scenario: A caught-up subscription waiting for new events stops, and the store then closes
      Given subscription "mailer" has handled the first 5 events
      When subscription "mailer" is stopped
      Then the stop resolved with the checkpoint at position 4
      And the store closes

    Scenario: A subscription stopped in the middle of its handler stops once the handler returns
      Given subscription "slow" is in the middle of handling position 2
      When subscription "slow" is stopped while its handler is still running
      And the handler is allowed to finish
      Then the stop resolved with the checkpoint at position 2

    Scenario: After a stop the name can be used again and resumes from the checkpoint
      Given subscription "mailer" has handled the first 5 events
      When subscription "mailer" is stopped
      And "ledger" appends 2 events
      And subscription "mailer" resumes from its checkpoint
      Then subscription "mailer" has handled positions 5 to 6 in order

  Rule: One live subscription per name

    Scenario: A second subscription under a running name is refused
      Given subscription "mailer" has handled the first 5 events
      When another subscription "mailer" is started
      Then it is refused with a SubscriptionActiveError naming "mailer"

  Rule: A damaged checkpoint stops only its own subscription, and says how to go on

    @file-only
    Scenario: A garbled checkpoint file
      Given subscription "mailer" has handled the first 5 events
      And the store is closed
      When the checkpoint of "mailer" is overwritten with "{\"position\": 4"
      And the store is opened again
      Then the store opens with 5 events
      And the recovery report lists the checkpoint of "mailer" as damaged
      When subscription "mailer" tries to resume from its checkpoint
      Then it is refused with a SubscriptionCheckpointError naming "subscriptions/mailer.json" and saying "onDamagedCheckpoint: 'restart'"
      When subscription "mailer" resumes with onDamagedCheckpoint "restart"
      Then subscription "mailer" has handled positions 0 to 4 in order

    @file-only
    Scenario: verify and info name a damaged checkpoint instead of failing on it
      Given subscription "mailer" has handled the first 5 events
      And the store is closed
      When the checkpoint of "mailer" is overwritten with "not json"
      And the operator runs "eventfold verify" on the store
      Then the command exits with 2 and says "subscriptions/mailer.json is damaged (it is not valid JSON)"
      When the operator runs "eventfold info" on the store
      Then the command exits with 2 and says "mailer DAMAGED"

    @file-only
    Scenario: A checkpoint whose position was changed behind its checksum's back
      Given subscription "mailer" has handled the first 5 events
      And the store is closed
      When the position in the checkpoint of "mailer" is changed to 2, keeping its checksum
      And the store is opened again
      And subscription "mailer" tries to resume from its checkpoint
      Then it is refused with a SubscriptionCheckpointError naming "subscriptions/mailer.json" and saying "checksum"

    @file-only
    Scenario: A checkpoint written before checkpoints had a checksum is still read
      Given the store is closed
      When the checkpoint of "mailer" is overwritten with "{ \"position\": 2 }"
      And the store is opened again
      And subscription "mailer" resumes from its checkpoint
      Then subscription "mailer" has handled positions 3 to 4 in order

    @file-only
    Scenario: A checkpoint past the log's end is reset to the end when the store opens
      Given the store is closed
      When the checkpoint of "mailer" is overwritten with "{ \"position\": 40 }"
      And the store is opened again
      Then the recovery report says checkpoint "mailer" was reset at open from position 40 to position 4
      When "ledger" appends 3 events
      And subscription "mailer" resumes from its checkpoint
      Then subscription "mailer" has handled positions 5 to 7 in order

  Rule: info shows each subscription's position and lag

    @file-only
    Scenario: Two subscriptions, one behind
      Given subscription "mailer" has handled the first 5 events
      And the store is closed
      And the checkpoint of "audit" is overwritten with "{ \"position\": 1 }"
      When the operator runs "eventfold info --json" on the store
      Then the inspection shows subscription "mailer" at position 4 with a lag of 0
      And the inspection shows subscription "audit" at position 1 with a lag of 3

@recovery
Feature: A directory the store creates survives a power cut
  A new directory is an entry in its parent directory, and a power cut loses
  entries that were not fsynced. So every directory the store creates — its
  own, `log/`, `snapshots/`, `subscriptions/`, `quarantine/` — is fsynced
  into its parent right after it is made, before anything that lives in it
  is acknowledged. The simulated disk loses every directory entry (file or
  directory) whose parent was not fsynced; the runs below cut the power
  right after the first thing in each new directory was made durable.

  Background:
    Given the store lives on a simulated disk

  Rule: What was made durable inside a new directory is still there after a power cut

    Scenario: The store's own directory, created by the first open
      Given a new store
      And "meter-1" has 3 events
      When the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 3 events

    Scenario: The snapshots directory, created by the first checkpoint
      Given a new store
      And "meter-1" has 30 events
      And a checkpoint is taken
      When the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then the reopen started from the snapshot at position 29 and replayed 0 events

    Scenario: The subscriptions directory, created by a subscription's first checkpoint
      Given a new store
      And "meter-1" has 30 events
      And subscription "invoices" has handled all 30 events and stopped
      When the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then subscription "invoices" resumes after position 29

    Scenario: The quarantine directory, created by a repair
      Given a store holding 30 events when the machine stops
      When one bit flips in the body of record 10
      And the store is opened again with repair "truncate"
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then the store opens with the first 9 events
      And the quarantined bytes are still in quarantine

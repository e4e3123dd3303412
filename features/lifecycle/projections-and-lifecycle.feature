Feature: Projections fold the application's events only, however the store opens
  Stream metadata and deletions are events of the store's own stream
  "$lifecycle". Projections never see them: not as they are appended, not
  when the store opens again (from a snapshot or by replaying the whole
  log), not when a read-only store takes in a writer's new events. So a
  projection's state is the same whichever way it was built, and a
  projection that refuses event types it does not know never blocks an open.

  Background:
    Given a new store with a projection that counts the events it folds and refuses types it does not know
    And "orders" has 3 events
    And the metadata of "orders" is set to maxCount 10
    And "drafts" is deleted

  Rule: The state is the same live, after a reopen, from a snapshot and from a full replay

    @file-only
    Scenario: 3 events folded, whichever way the store opens
      Then the projection has folded 3 events
      When the store is closed and opened again
      Then the projection has folded 3 events
      When a checkpoint is taken
      And the store is closed and opened again
      Then the open started from a snapshot and the projection has folded 3 events
      When the store is closed and opened again without its snapshots
      Then the open replayed the whole log and the projection has folded 3 events

    @file-only
    Scenario: A read-only store alongside the writer folds the same events
      Given a read-only store is opened alongside it
      When "drafts" is deleted for good
      And "orders" appends 1 event
      And the read-only store takes in the writer's new events
      Then the read-only store's projection has folded 4 events

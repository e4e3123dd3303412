Feature: Deleting a stream, softly or for good
  `deleteStream(stream)` deletes softly: the stream reads as empty, and a
  later append continues its versions (the events before stay removed).
  `deleteStream(stream, { hard: true })` deletes for good: every later
  append to it, or metadata change, is refused with a StreamDeletedError,
  its name cannot be reused, and reading it yields nothing. Both take an
  `expectedVersion`, checked like an append's. A deletion is an event of the
  store's own stream "$lifecycle": it is durable once `deleteStream`
  resolves and survives close and reopen. Positions of other events never
  change; reading all events skips the deleted ones.

  Background:
    Given a new store

  Rule: A soft-deleted stream reads as empty and continues its versions

    Scenario: A soft delete of a stream of 3 events, then 1 more event
      Given "cart-1" has 3 events
      And "cart-2" has 2 events
      When "cart-1" is deleted
      Then reading "cart-1" forward returns 0 events
      And reading all events returns 2 events
      And the streams listed are "cart-2"
      And the version of "cart-1" is 2
      When "cart-1" appends 1 event
      Then the append returns version 3
      And reading "cart-1" forward returns 1 events, versions 3 to 3
      When the store is closed and opened again
      Then reading "cart-1" forward returns 1 events, versions 3 to 3
      And reading "cart-1" backward returns 1 events, versions 3 to 3
      And reading all events returns 3 events

  Rule: A hard-deleted stream is gone for good

    Scenario: After a hard delete nothing more can be written to the stream, also after a reopen
      Given "cart-3" has 4 events
      When "cart-3" is deleted for good
      Then reading "cart-3" forward returns 0 events
      And reading all events returns 0 events
      And asking for the version of "cart-3" is refused with a StreamDeletedError
      And no stream is listed
      When "cart-3" appends 1 event
      Then the last append was rejected with a StreamDeletedError
      When the store is closed and opened again
      And "cart-3" appends 1 event expecting no stream
      Then the last append was rejected with a StreamDeletedError
      When the metadata of "cart-3" is set to maxCount 5
      Then the last append was rejected with a StreamDeletedError
      When "cart-3" is deleted
      Then the last append was rejected with a StreamDeletedError

    Scenario: Appends queued before the hard delete are written; those after it are refused
      Given "cart-4" has 1 events
      When "cart-4" appends 1 event, is deleted for good and appends 1 event, all at once
      Then the first append returned version 1 and the last was rejected with a StreamDeletedError

    Scenario: A stream that never existed can be deleted for good, and its name is then taken
      When "cart-5" is deleted for good
      And "cart-5" appends 1 event
      Then the last append was rejected with a StreamDeletedError

  Rule: A deletion checks the expected version like an append

    Scenario: A delete expecting version 1 of a stream at version 2 is refused
      Given "cart-6" has 3 events
      When "cart-6" is deleted expecting version 1
      Then the last append was rejected with an ExpectedVersionConflictError
      And reading "cart-6" forward returns 3 events, versions 0 to 2
      When "cart-6" is deleted expecting version 2
      Then reading "cart-6" forward returns 0 events

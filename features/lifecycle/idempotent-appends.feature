Feature: Idempotent appends: a retry writes nothing and answers like the first attempt
  A client whose append timed out cannot tell whether it was written. If
  every event it sends carries its own id, it can simply send the same batch
  again: when the store finds those ids, in the same order, at the place the
  batch would take, nothing is written and the retry resolves with the first
  append's position and version — also after the store was closed and opened
  again, and whatever the retry's expected version says.

  The store keeps nothing in memory for this: it reads back the events at
  that place (the versions after the expected version, or with 'any' the
  stream's last events, as many as the batch holds) from the log.

  The store also looks among the stream's last 20 events, so a retry is
  recognised there whatever its expected version says; further back, only
  the place right after a numeric expected version is looked at. Ids are
  compared within one stream: the same id in another stream is not looked
  for (memory does not grow with the number of events).

  A batch that reuses some of those ids but not all of them, or the same ids
  in another order, or the same id twice, is not a retry: it is refused with
  a DuplicateEventIdError, and nothing is written.

  Background:
    Given a new store

  Rule: The same batch sent again is recognised and answered with the first result

    Scenario Outline: A retry expecting <expectation> resolves with the first append's result
      Given "order-1" has 2 events
      And "order-1" appended the events "a", "b" and "c" expecting <expectation>
      When "order-1" appends the events "a", "b" and "c" again expecting <expectation>
      Then the retry returns position 4 and version 4, like the first attempt
      And the store still holds 5 events

      Examples:
        | expectation   |
        | version 1     |
        | any           |
        | stream exists |

    Scenario: A retry of a 'no_stream' append after a reopen succeeds with the first result
      Given "order-2" appended the events "a" and "b" expecting no stream
      And "order-3" has 3 events
      When the store is closed and opened again
      And "order-2" appends the events "a" and "b" again expecting no stream
      Then the retry returns position 1 and version 1, like the first attempt
      And the store still holds 5 events

    Scenario: A retry expecting 'any' after a reopen returns the first append's position
      Given "order-12" has 2 events
      And "order-12" appended the events "a", "b" and "c" expecting any
      When the store is closed and opened again
      And "order-12" appends the events "a", "b" and "c" again expecting any
      Then the retry returns position 4 and version 4, like the first attempt
      And the store still holds 5 events

    Scenario: A retry sent while the first attempt is still on its way to disk gets the same answer
      When "order-4" sends the events "a" and "b" twice at the same time, expecting no stream
      Then both appends return position 1 and version 1
      And the store still holds 2 events

    Scenario: A retry with an expected version is recognised after the stream moved on
      Given "order-5" appended the events "a" and "b" expecting no stream
      And "order-5" appends 10 more events
      When "order-5" appends the events "a" and "b" again expecting no stream
      Then the retry returns position 1 and version 1, like the first attempt
      And the store still holds 12 events

  Rule: A retry among the stream's last 20 events is recognised whatever its expected version

    Scenario Outline: A retry of "pay-1" after the stream moved on by 1 event, expecting <expectation>
      Given "wallet-1" appended the events "pay-1" expecting no stream
      And "wallet-1" has 1 events
      When "wallet-1" appends the events "pay-1" again expecting <expectation>
      Then the retry returns position 0 and version 0, like the first attempt
      And the store still holds 2 events

      Examples:
        | expectation   |
        | version 0     |
        | version 1     |
        | any           |
        | stream exists |

    Scenario: Further back than the last 20 events, a retry expecting 'any' is not recognised
      Given "wallet-2" appended the events "pay-2" expecting any
      And "wallet-2" has 20 events
      When "wallet-2" appends the events "pay-2" again expecting any
      Then the store still holds 22 events

  @file-only
  Rule: The check reads the stream's last events; only an expected version further back reads further, and holds up nothing

    Scenario: A conflicting append with ids reads no more than the stream's last 20 events
      Given a store whose reads of the log are counted, where "ledger-1" has 3000 events
      When "ledger-1" sends the events "pay-1" and "pay-2" expecting version 2990, counting what it reads of the log
      Then the last append was rejected with an ExpectedVersionConflictError saying "current version is 2999"
      And it read no more of the log than reading the last 20 events of "ledger-1" backward

    Scenario: A stale append with ids reads the stream back to its expected version once, and the stream's other appends go on meanwhile
      Given a store whose reads of the log are counted, where "ledger-2" has 3000 events
      When "ledger-2" sends the events "late-1" expecting version 5, and its reads of the log are held
      And "ledger-2" appends 1 event meanwhile
      Then that append returned version 3000 while the stale append was still reading
      When the stale append's reads go on
      Then the stale append was rejected with an ExpectedVersionConflictError saying its stream is at version 3000
      And it read no more of the log than reading "ledger-2" backward down to version 6 and reading its last 20 events

  Rule: Reused ids that are not a retry are refused, and nothing is written

    Scenario Outline: <batch> is refused with a DuplicateEventIdError
      Given "order-6" appended the events "a", "b" and "c" expecting no stream
      When "order-6" appends the events <batch> expecting <expectation>
      Then the last append was rejected with a DuplicateEventIdError
      And the store still holds 3 events

      Examples:
        | batch                 | expectation |
        | "a", "b" and "x"      | no stream   |
        | "c", "b" and "a"      | no stream   |
        | "b", "c" and "x"      | version 0   |
        | "c", "a" and "b"      | any         |
        | "a" and "x"           | any         |
        | "c" and "b"           | version 2   |

    Scenario: New ids with 'any' are simply appended
      Given "order-7" appended the events "a" and "b" expecting any
      When "order-7" appends the events "c" and "d" again expecting any
      Then the store still holds 4 events

    Scenario: Events without ids are never taken for a retry
      Given "order-8" has 3 events
      When "order-8" appends 3 events
      Then the store still holds 6 events

    Scenario: The same id twice in one batch is refused
      When "order-9" appends the events "a", "b" and "a" expecting any
      Then the last append was rejected with a DuplicateEventIdError
      And the store still holds 0 events

  Rule: Ids are compared within one stream only

    Scenario: The same id in another stream is simply appended
      Given "order-10" appended the events "a" expecting any
      When "order-11" appends the events "a" expecting any
      Then the store still holds 2 events

Feature: Bad input is refused before anything is written
  Every append is checked before it takes a position: the stream name, each
  event's type and id, that the data can be stored without losing anything,
  the size of each encoded event, the expected version and the options
  themselves. Bad input gets an InvalidInputError with a sentence that says
  what is wrong and where; nothing is written and the store stays healthy for
  the next append.

  Limits: stream names, event types and ids are 1 to 256 UTF-8 bytes of
  well-formed Unicode; an encoded event is at most 1 MiB unless the store is
  opened with another `maxEventBytes`; event data follows the data model
  (see "What goes into an event comes out exactly") nested at most 64 levels.

  Background:
    Given a new store
    And "good" has 2 events

  Rule: Each kind of bad input gets an InvalidInputError and writes nothing

    Scenario Outline: An append with <problem>
      When an append is made with <problem>
      Then the last append was rejected with an InvalidInputError saying "<message>"
      And the store still holds 2 events
      And no byte was written to the log
      And "good" can still append 1 event expecting version 1

      Examples:
        | problem                                | message                                                       |
        | an empty stream name                   | stream name must be a non-empty                               |
        | a stream name of 300 bytes             | the limit is 256 bytes                                        |
        | a stream name with a lone surrogate    | stream name has a lone surrogate (U+D800) at index 5          |
        | an event type with a lone surrogate    | event 0 type has a lone surrogate (U+DC00) at index 0         |
        | an event id with a lone surrogate      | event 1 id has a lone surrogate (U+DBFF) at index 3           |
        | metadata with a lone surrogate         | event 0 metadata.by has a lone surrogate (U+DFFF) at index 3  |
        | an event without a type                | type must be a non-empty string                               |
        | an event that is not an object         | event 1 must be an object, got null                           |
        | no events at all                       | events must be a non-empty array                              |
        | data holding a function                | event 0 data.f is a function                                  |
        | data holding a Map                     | event 0 data.m is a Map                                       |
        | data that refers to itself             | nests deeper than 64 levels                                   |
        | an event of 2 MiB                      | the limit is 1048576 bytes                                    |
        | expected version -1                    | expectedVersion must be                                       |
        | expected version "latest"              | expectedVersion must be                                       |
        | the misspelt option expectVersion      | unknown option "expectVersion" (did you mean "expectedVersion"?); allowed: expectedVersion |
        | options that are null                  | append options must be an object (or left out), got null      |

  Rule: Names are well-formed Unicode, so two names never become one on disk

    Scenario: Stream names that differ only in a lone surrogate are refused, astral names are kept
      When events are appended to the streams "acct-\uD800", "acct-\uDBFF" and "acct-🎉"
      Then the appends to "acct-\uD800" and "acct-\uDBFF" were refused with an InvalidInputError
      And after a reopen the store lists the streams "good" and "acct-🎉"
      And "acct-🎉" reads back its 1 event

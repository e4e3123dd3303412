Feature: Bad input is refused before anything is written
  Every append is checked before it takes a position: the stream name, each
  event's type, that the data can be stored without losing anything, the
  size of each encoded event, and the expected version. Bad input gets an
  InvalidInputError with a sentence that says what is wrong; nothing is
  written and the store stays healthy for the next append.

  Limits: stream names and event types are 1 to 256 UTF-8 bytes; an encoded
  event is at most 1 MiB unless the store is opened with another
  `maxEventBytes`; event data is plain data (objects, arrays, strings,
  numbers, booleans, null, bigint, Date, bytes) nested at most 64 levels.

  Rule: Each kind of bad input gets an InvalidInputError and writes nothing

    Scenario Outline: An append with <problem>
      Given a new store
      And "good" has 2 events
      When an append is made with <problem>
      Then the last append was rejected with an InvalidInputError mentioning "<message>"
      And the store still holds 2 events
      And no byte was written to the log
      And "good" can still append 1 event expecting version 1

      Examples:
        | problem                                | message                              |
        | an empty stream name                   | stream name must be a non-empty      |
        | a stream name of 300 bytes             | the limit is 256 bytes               |
        | an event without a type                | type must be a non-empty string      |
        | no events at all                       | events must be a non-empty array     |
        | data holding a function                | contains a function                  |
        | data holding a Map                     | contains a Map object                |
        | data that refers to itself             | nests deeper than 64 levels          |
        | an event of 2 MiB                      | the limit is 1048576 bytes           |
        | expected version -1                    | expectedVersion must be              |
        | expected version "latest"              | expectedVersion must be              |

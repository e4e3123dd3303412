Feature: Append events to streams and read them back
  An application records what happened as events. Each event belongs to a
  stream (one account, one order, one device) and is stored in one global
  log. Every event gets two numbers: its version inside its stream, counting
  from 0, and its position in the whole store, also counting from 0, with no
  gaps. Reading a stream or the whole log returns the events exactly as they
  were appended, each record's checksum verified on the way.

  Rule: The first event of a stream has version 0 and the first event of the store has position 0

    Scenario: Opening an account writes two events a reader gets back exactly
      Given a new store
      When "account-42" appends 2 events "Opened" and "Deposited" expecting no stream
      Then the append returns position 1 and version 1
      And reading stream "account-42" returns 2 events with versions 0 to 1 and positions 0 to 1
      And each event read back has its type, data, a unique id and a timestamp

  Rule: The global log keeps every stream's events in the order they were appended

    Scenario: Three streams interleave in one gapless global order
      Given a new store
      When "alice" appends 3 events
      And "bob" appends 2 events
      And "alice" appends 1 event
      Then reading all events returns 6 events with positions 0 to 5
      And stream "alice" has versions 0 to 3 at positions 0, 1, 2 and 5
      And stream "bob" has versions 0 to 1 at positions 3 and 4

    Scenario: Reading all events can start at a position and stop at a limit
      Given a new store
      And "ledger" has 50 events
      When all events are read from position 20 with a limit of 10
      Then 10 events are returned with positions 20 to 29

  Rule: A stream can be read forward or backward, from any version, up to a limit

    Scenario: The latest 3 events of a 20-event stream, newest first
      Given a new store
      And "sensor-7" has 20 events
      When stream "sensor-7" is read backward with a limit of 3
      Then the events returned have versions 19, 18 and 17

    Scenario: A stream read forward from version 15
      Given a new store
      And "sensor-7" has 20 events
      When stream "sensor-7" is read forward from version 15
      Then the events returned have versions 15, 16, 17, 18 and 19

    Scenario: A stream that was never written reads as empty
      Given a new store
      Then reading stream "nobody" returns 0 events

  Rule: Everything survives a close and a reopen, and spans many segment files

    @file-only
    Scenario: 5,000 events across 20 streams are all there after reopening
      Given a new store with:
        | segmentSize | 64 KiB |
      And 20 streams have 250 events each
      When the store is closed and opened again
      Then the recovery report says the last shutdown was clean
      And the log is made of more than 3 segment files
      And reading all events returns 5000 events with positions 0 to 4999
      And every event's content matches what was appended

    @file-only
    Scenario: A replay reads the log a page at a time, across segment files
      Given a new store with:
        | segmentSize | 64 KiB |
      And 20 streams have 250 events each
      When all events are read a page at a time from position 1000 with a limit of 3500
      Then 3500 events are returned with positions 1000 to 4499
      And they are the events that reading one at a time returns
      And every page holds between 1 and 256 events

    @file-only
    Scenario: Asking for the next event before the previous answer arrived still gives the events in order
      Given a new store with:
        | segmentSize | 64 KiB |
      And 20 streams have 250 events each
      When 5001 events are asked of one full read at once, without waiting for any answer
      Then the answers are the events with positions 0 to 4999 in order, then the end of the read

  Rule: An in-memory store behaves exactly like one on disk, for applications' own tests

    @file-only
    Scenario: The in-memory store keeps the same versions, positions and guarantees
      Given a new in-memory store
      When "cart-1" appends 3 events expecting no stream
      And "cart-1" appends 1 event expecting version 1
      Then the last append was rejected with an ExpectedVersionConflictError
      And reading stream "cart-1" returns 3 events with versions 0 to 2 and positions 0 to 2

Feature: Stream metadata and retention: a stream keeps only the events its settings allow
  A stream's metadata says how long it keeps its events: `maxCount` (only
  its last N events), `maxAge` (only events younger than that many
  milliseconds), `truncateBefore` (nothing below that version), plus
  `custom`, the application's own data about the stream. It is stored in
  the log itself, in the store's own stream "$lifecycle", so it survives
  close and reopen. Every read honours it: reading the stream forward or
  backward, reading all events, subscriptions and aggregateStream no longer
  see the events outside it. Positions stay as they were assigned: reading
  all events simply skips the removed ones.

  Background:
    Given a new store

  Rule: A stream of 1,000 events with maxCount 100 reads as its last 100

    Scenario: Every read sees the last 100 events, also after a reopen
      Given "sensor-1" has 1000 events
      And "sensor-2" has 5 events
      When the metadata of "sensor-1" is set to maxCount 100
      Then reading "sensor-1" forward returns 100 events, versions 900 to 999
      And reading "sensor-1" backward returns 100 events, versions 999 to 900
      And reading "sensor-1" backward from version 950 returns 51 events, versions 950 to 900
      And reading all events returns 105 events: 100 of "sensor-1" and 5 of "sensor-2"
      And folding "sensor-1" with aggregateStream counts 100 events
      And a new subscription receives 105 events
      When the store is closed and opened again
      Then reading "sensor-1" forward returns 100 events, versions 900 to 999
      And the metadata of "sensor-1" says maxCount 100

    Scenario: The window moves as the stream grows
      Given "sensor-3" has 10 events
      And the metadata of "sensor-3" is set to maxCount 3
      When "sensor-3" appends 2 events
      Then reading "sensor-3" forward returns 3 events, versions 9 to 11

    Scenario: Metadata set on a stream that does not exist yet applies to its events
      Given the metadata of "sensor-4" is set to maxCount 2
      When "sensor-4" appends 5 events
      Then reading "sensor-4" forward returns 2 events, versions 3 to 4
      And the append returns version 4

  Rule: truncateBefore removes the versions below it, maxAge the events older than it

    Scenario: truncateBefore 40 leaves versions 40 to 49
      Given "ledger-1" has 50 events
      When the metadata of "ledger-1" is set to truncateBefore 40
      Then reading "ledger-1" forward returns 10 events, versions 40 to 49
      And reading "ledger-1" forward from version 45 returns 5 events, versions 45 to 49
      And reading "ledger-1" backward returns 10 events, versions 49 to 40
      And reading "ledger-1" backward from version 45 returns 6 events, versions 45 to 40

    Scenario: maxAge of one hour removes what is older once the clock has moved on
      Given "ledger-2" has 4 events
      And the metadata of "ledger-2" is set to maxAge 3600000 ms
      And the clock moves forward by 2 hours
      When "ledger-2" appends 3 events
      Then reading "ledger-2" forward returns 3 events, versions 4 to 6
      And reading "ledger-2" backward returns 3 events, versions 6 to 4
      And reading all events returns 3 events

    Scenario: maxAge judges each event by its own time, also when the clock was set back between appends
      Given "ledger-6" has 5 events
      And the clock is set back by 1 hour
      And "ledger-6" appends 5 events
      And the clock is right again
      When the metadata of "ledger-6" is set to maxAge 1800000 ms
      Then reading "ledger-6" forward returns 5 events, versions 0 to 4
      And reading "ledger-6" backward returns 5 events, versions 4 to 0
      And reading "ledger-6" forward with a limit of 2 returns versions 0 and 1
      And reading "ledger-6" backward with a limit of 2 returns versions 4 and 3
      And reading "ledger-6" backward with a limit of 7 returns versions 4, 3, 2, 1 and 0
      And the streams listed are "ledger-6"

    Scenario: A stream whose every event is older than its maxAge is not among the streams listed, until it gets a new event
      Given "ledger-9" has 3 events
      And "ledger-10" has 2 events
      And "ledger-11" has 1 events
      And the metadata of "ledger-9" is set to maxAge 3600000 ms
      And the metadata of "ledger-10" is set to maxAge 3600000 ms
      And the streams listed are "ledger-9, ledger-10 and ledger-11"
      When the clock moves forward by 2 hours
      Then reading "ledger-9" forward returns 0 events
      And the streams listed are "ledger-11"
      When "ledger-10" appends 1 event
      Then the streams listed are "ledger-10 and ledger-11"
      When the store is closed and opened again
      Then the streams listed are "ledger-10 and ledger-11"
      And reading "ledger-10" forward returns 1 events, versions 2 to 2

  Rule: Subscriptions skip what retention and deletion removed

    Scenario: A subscription resuming from its checkpoint skips the events removed while it was stopped
      Given "cart-1" has 10 events
      And "sensor-5" has 10 events
      And subscription "audit" has handled the first 5 events
      And subscription "audit" is stopped
      When "cart-1" is deleted
      And the metadata of "sensor-5" is set to maxCount 3
      And subscription "audit" resumes from its checkpoint
      Then subscription "audit" has handled positions 17 to 19 in order

  Rule: Metadata is checked and kept exactly

    Scenario: custom metadata reads back exactly
      When the metadata of "ledger-3" is set to maxCount 5 and custom {"owner":"ann","tags":["a","b"]}
      And the store is closed and opened again
      Then the metadata of "ledger-3" reads back as maxCount 5 and custom {"owner":"ann","tags":["a","b"]}

    Scenario Outline: custom metadata holding <value> reads back as it went in, as event data does
      When "ledger-7" is given custom metadata holding <value>
      Then its custom data reads back exactly, also in the retention report
      And its custom data reads back exactly after a reopen, also in the retention report

      Examples:
        | value                          |
        | a Buffer                       |
        | a Uint8Array                   |
        | a Float64Array                 |
        | an ArrayBuffer                 |
        | a Date                         |
        | a bigint of 200 bits           |
        | a Set                          |
        | a key whose value is undefined |
        | an object without a prototype  |

    Scenario Outline: Bad metadata is refused with an InvalidInputError and nothing is written
      Given "ledger-4" has 3 events
      When the metadata of "ledger-4" is set to <metadata>
      Then the last append was rejected with an InvalidInputError saying "<says>"
      And the store still holds 3 events

      Examples:
        | metadata          | says                                        |
        | {"maxCount":0}    | maxCount must be a whole number >= 1        |
        | {"maxAge":-5}     | maxAge must be a whole number >= 1          |
        | {"maxcount":3}    | unknown key "maxcount"                      |
        | {"truncateBefore":1.5} | truncateBefore must be a whole number >= 0 |

  Rule: Names starting with "$" belong to the store

    Scenario Outline: <action> on "$lifecycle" is refused with a ReservedStreamNameError
      Given "ledger-5" has 2 events
      When <action> "$lifecycle" is tried
      Then the last append was rejected with a ReservedStreamNameError
      And the store still holds 2 events

      Examples:
        | action              |
        | an append to        |
        | a read of           |
        | setting metadata on |
        | deleting            |

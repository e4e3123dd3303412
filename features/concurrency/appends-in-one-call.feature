Feature: Several appends handed to the log in one call are each checked on their own
  Underneath `append`, the engine hands appends to its log (the file log or
  PostgreSQL) through one small interface, and one call may carry several
  appends, to the same stream or to different ones, each with its own
  expected version — how a log commits a group of appends together. Each
  append stays atomic and is checked against its stream as it is at that
  moment, the appends before it in the same call included; a conflict
  refuses that append alone, with nothing of it written, and the others are
  written in the order given, at consecutive positions.

  Background:
    Given a new store
    And "order-1" has 2 events

  Rule: A conflict refuses only its own append

    Scenario: The second of three appends expects a stream that does not exist yet
      When these appends are handed to the log in one call:
        | stream  | events | expecting  |
        | order-1 | 1      | version 1  |
        | order-2 | 2      | version 0  |
        | order-3 | 1      | no stream  |
      Then append 1 is written at position 2, version 2
      And append 2 is refused with an ExpectedVersionConflictError saying the stream has no events
      And append 3 is written at position 3, version 0
      And the store holds 4 events
      And "order-2" reads back no events

  Rule: Appends to the same stream in one call see the ones before them

    Scenario: Three appends to one stream, the last one expecting a version the second already took
      When these appends are handed to the log in one call:
        | stream  | events | expecting |
        | order-1 | 1      | version 1 |
        | order-1 | 2      | version 2 |
        | order-1 | 1      | version 2 |
      Then append 1 is written at position 2, version 2
      And append 2 is written at position 4, version 4
      And append 3 is refused with an ExpectedVersionConflictError saying the current version is 4
      And the store holds 5 events
      And "order-1" reads back versions 0 to 4 in order

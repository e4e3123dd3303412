Feature: Optimistic concurrency with an expected version
  Two users may decide on the same stale view of a stream. An append can say
  what it expects the stream to look like; if the stream has moved on, the
  append is refused with an ExpectedVersionConflictError that carries the
  expected and the actual version, and nothing is written.

  The four expectations:
  - 'any': append whatever the stream's state (the default);
  - 'no_stream': the stream must not exist yet;
  - 'stream_exists': the stream must have at least one event;
  - a number: the stream's last version must be exactly that number.

  Background:
    Given a new store

  Rule: An append whose expectation holds is written

    Scenario Outline: <expectation> is met
      Given "order-9" <history>
      When "order-9" appends 1 event expecting <expectation>
      Then the append returns version <version>

      Examples:
        | expectation   | history        | version |
        | any           | has no events  | 0       |
        | any           | has 3 events   | 3       |
        | no stream     | has no events  | 0       |
        | stream exists | has 2 events   | 2       |
        | version 4     | has 5 events   | 5       |

  Rule: An append whose expectation fails is refused, says why, and writes nothing

    Scenario Outline: <expectation> is not met
      Given "order-9" <history>
      When "order-9" appends 1 event expecting <expectation>
      Then the last append was rejected with an ExpectedVersionConflictError
      And the error says version <expected> was expected and the actual version is <actual>
      And the store still holds <total> events

      Examples:
        | expectation   | history       | expected      | actual | total |
        | no stream     | has 1 events  | no_stream     | 0      | 1     |
        | stream exists | has no events | stream_exists | -1     | 0     |
        | version 2     | has 5 events  | 2             | 4      | 5     |
        | version 0     | has no events | 0             | -1     | 0     |

  Rule: Of several writers racing on the same version, exactly one wins

    Scenario: 10 callers append to "seat-14A" expecting version 0 at the same moment
      Given "seat-14A" has 1 events
      When 10 callers append to "seat-14A" expecting version 0 at the same time
      Then exactly 1 append succeeds and 9 are rejected with an ExpectedVersionConflictError
      And stream "seat-14A" ends at version 1

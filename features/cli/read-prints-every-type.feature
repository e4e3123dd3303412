Feature: eventfold read prints every type of the data model
  JSON has no bigint, Set or binary type, so `eventfold read` (plain and
  --json) writes them one way, documented in the README: a bigint as a string
  of its digits, a Set as an array of its items, bytes and typed arrays as an
  array of their numbers. No event makes the command fail.

  Background:
    Given a new store
    And "sensors" has an event "Measured" holding a count of 12345678901234567890 as a bigint, the tags "hot" and "dry" as a Set and the bytes 1, 2, 3 as a Uint8Array
    And the store is closed

  Scenario Outline: eventfold <command> on an event holding a bigint, a Set and bytes
    When the operator runs "eventfold <command>" on the store
    Then the command exits with 0 and prints the event's data as <printed>

    Examples:
      | command        | printed                                                                 |
      | read           | {"count":"12345678901234567890","tags":["hot","dry"],"bytes":[1,2,3]}   |
      | read --json    | {"count":"12345678901234567890","tags":["hot","dry"],"bytes":[1,2,3]}   |

Feature: Appends in flight: call order, and a retry sent before the first attempt is durable
  The appends of one process to one stream take their places in the log in
  the order they were called — with or without ids, and with that stream's
  deletions and metadata changes. An append whose events all carry ids
  first looks at the stream (is it a retry?): it waits until the appends to
  that stream called before it are durable, decides, and takes its place
  before any append called after it. So a retry sent while the first
  attempt is still on its way to disk is answered with the first attempt's
  result, and the batch is written once.

  Background:
    Given a new store

  Rule: A retry sent while the first attempt is in flight is written once

    Scenario Outline: <copies> copies of one batch sent at once, expecting <expectation>, to a stream of 1 event
      Given "payments" has 1 events
      When <copies> copies of the batch "pay-1" are sent to "payments" at once, expecting <expectation>
      Then every copy returns position 1 and version 1
      And "payments" holds 2 events, "pay-1" once

      Examples:
        | copies | expectation   |
        | 2      | any           |
        | 2      | stream exists |
        | 10     | version 0     |
        | 10     | any           |

  Rule: Appends to one stream take their places in call order

    Scenario: Appends with and without ids, and a deletion, sent back to back
      Given "account" has 1 events
      When these appends to "account" are sent without waiting in between:
        | type      | id  |
        | Deposited | d-1 |
        | Withdrawn |     |
        | Fee       | f-1 |
        | Interest  |     |
      Then "account" reads, from version 1: Deposited, Withdrawn, Fee, Interest

    Scenario: A hard delete sent right after an append with ids comes after it
      Given "cart" has 1 events
      When "cart" is sent an append with the id "c-1" and then a deletion for good, without waiting in between
      Then the append returned version 1 and the deletion succeeded

    Scenario: An append that waited for room in a full queue comes before one called after it
      The queue holds 3 events, so the first of the two appends waits for room.
      The second is called as soon as an earlier append is acknowledged, and 0
      to 6 moments later, on a fresh store each time.
      When on a store whose queue holds 3 events, "invoice" at version 1 is sent an append expecting version 1 while the queue is full, and then another expecting version 2
      Then in all 7 tries the first was written at version 2 and the second at version 3

    Scenario: 300 appends sent at once, every third with an id and sent twice, keep call order and are written once
      When 300 appends to "ledger" are sent at once, every third with an id and sent twice in a row
      Then "ledger" holds the 300 events in call order, each once
      And every second copy returned the first copy's position and version

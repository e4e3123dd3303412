Feature: The store keeps exactly what it checked
  An append reads the caller's events once, into a copy the store owns, and
  checks that copy against the data model; only the copy takes positions and
  is written. A caller that keeps using its array or objects afterwards — while
  its append waits for room in the queue, or from a getter that answers
  differently the second time — changes nothing in the log: every
  acknowledged append holds exactly the events it was counted with, and the
  store opens cleanly afterwards.

  Rule: The events of an append are counted and written from the store's own copy

    Scenario: The caller adds an event to its array while its append waits for room
      Given a new store with:
        | maxQueueEvents | 1 |
      And "orders" has 1 "Placed" event waiting to be written
      When "orders" appends 1 "Shipped" event that waits for room in the queue
      And the caller pushes a "Cancelled" event into that append's array while it waits
      Then the "Shipped" append is acknowledged at position 1, version 1
      And "invoices" appends 1 "Raised" event acknowledged at position 2, version 0
      And after a reopen the store holds exactly 3 events: "Placed", "Shipped", "Raised"

    Scenario: A getter on an event's data adds an event to the array while the append is written
      Given a new store
      When "orders" appends 1 "Placed" event whose data getter pushes a "Sneaked" event into the array when read a second time
      Then the "Placed" append is acknowledged at position 0, version 0
      And "invoices" appends 1 "Raised" event acknowledged at position 1, version 0
      And after a reopen the store holds exactly 2 events: "Placed", "Raised"

  Rule: What was checked is what is written, even when a value answers differently the second time

    Scenario: A getter on an event's data appends to another stream while the event is checked
      Given a new store
      When "orders" appends an event with metadata whose data getter appends an "Audited" event with metadata to "audit"
      Then both appends are acknowledged
      And after a reopen "orders" and "audit" read back each event with the data and metadata it was appended with

    Scenario Outline: A getter that returns <first> when checked and <later> afterwards
      Given a new store
      When "orders" appends 1 event whose <field> is a getter returning <first> the first time and <later> afterwards
      And the store is closed and opened again
      Then "orders" reads back its event with <field> <first>

      Examples:
        | field          | first  | later                              |
        | data amount    | 10     | -0                                 |
        | data note      | "ok"   | "a\uD800b" (a lone surrogate)      |
        | data tags      | null   | a Map                              |
        | type           | "Paid" | "Paid\uDC00" (a lone surrogate)    |
        | type           | "Paid" | a 1000-character type              |

  Rule: What would not come back exactly is refused, with the key to fix, before anything is written

    Scenario Outline: An event with <problem>
      Given a new store
      And "good" has 2 events
      When an event is appended with <problem>
      Then the last append was rejected with an InvalidInputError saying "<message>"
      And the store still holds 2 events
      And no byte was written to the log

      Examples:
        | problem                                   | message                                                        |
        | a list of lines with an extra "note"      | event 0 data.lines is an array with a property "note"          |
        | a list of lines with a hidden line and an extra "note" | event 0 data.lines is an array with a property "note" |
        | a proxied list of lines listing an extra "note" first | event 0 data.lines is an array with a property "note" |
        | a list of lines with a hidden line        | event 0 data.lines is an array whose item 1 is not enumerable  |
        | a date with an extra "tz"                 | event 0 data.at is a Date with a property "tz"                 |
        | a set of tags with an extra "label"       | event 0 data.tags is a Set with a property "label"             |
        | photo bytes with an extra "mime"          | event 0 data.photo has a property "mime" besides its bytes     |
        | the misspelt key "metdata"                | event 0 has an unknown key "metdata" (did you mean metadata?)  |
        | a note of 134,217,728 characters          | makes the event at least 134217733 bytes encoded; the limit is 1048576 bytes |

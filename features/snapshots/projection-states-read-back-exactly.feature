Feature: A projection's state reads back exactly from a snapshot
  Projection states follow the same data model as event data: whatever an
  event may hold, a projection may keep, and after a checkpoint and a reopen
  from that snapshot it comes back as the same type with the same value — a
  Set as a Set, binary as the type that went in, a bigint of any size.

  Scenario Outline: A "catalog" projection that keeps <value>
    Given a new store with a "catalog" projection that keeps the value of the last event
    And "items" has 1 event holding <value>
    When a checkpoint is taken and the store is reopened
    Then the store was opened from the snapshot
    And the "catalog" state holds <value>, of the same type

    Examples:
      | value                                  |
      | a Set of the tags "red" and "blue"     |
      | the bytes 1, 2, 3 as a Uint8Array      |
      | the measures 1.5 and 2.5 as a Float64Array |
      | 3 zero bytes as an ArrayBuffer         |
      | 2 to the power of 100 as a bigint      |
      | the text "hi" as a Buffer              |

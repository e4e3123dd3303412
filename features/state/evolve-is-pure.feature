Feature: A projection's evolve cannot write to the store
  `evolve` folds an event into a state while the store is placing that event
  in the log. It must be pure: it cannot append, set a stream's metadata,
  delete a stream, checkpoint, scavenge or subscribe. Such a call is refused
  with a ReentrantCallError and writes nothing; the append being folded goes
  on and is acknowledged as if nothing had been tried. An application that
  reacts to events with more events does it from a subscription's handler,
  or after the append resolves.

  Background:
    Given a new store with an "orders" projection that counts events and, while it folds a "OrderPlaced" event, tries to write to the store

  Rule: A write from inside evolve is refused, and the append being folded is acknowledged

    Scenario Outline: The projection tries to <write> while it folds the order
      Given the projection's write is to <write>
      When "order-1" places an order of 1 item
      Then the order is acknowledged at position 1, version 1
      And every write the projection tried was refused with a ReentrantCallError
      And the store holds exactly 2 events: "OrderPlaced" and "ItemAdded" of "order-1"
      And the "orders" state counted 2 events
      When the store is closed and opened again with the same projection
      Then the store holds exactly 2 events: "OrderPlaced" and "ItemAdded" of "order-1"
      And the "orders" state counted 2 events
      And "shipping-1" has no metadata and was never deleted

      Examples:
        | write                                       |
        | append a "ShipmentRequested" to "shipping-1" |
        | append an "OrderNoted" to "order-1"          |
        | set the metadata of "shipping-1"             |
        | delete "shipping-1"                          |
        | hard delete "shipping-1"                     |
        | take a checkpoint                            |
        | scavenge                                     |

Feature: eventfold as Emmett's event store
  Emmett (`@event-driven-io/emmett`) is the TypeScript event-sourcing library
  whose command handlers are written against its `EventStore` interface.
  `getEventfoldEventStore(store)` from `eventfold/emmett` gives Emmett that
  interface over an open eventfold store, so a decider runs on eventfold's
  crash-safe log unchanged, and the events it writes are ordinary eventfold
  events, read back with eventfold's own API.

  Emmett counts stream positions as bigints from 1: an event's
  `streamPosition` is its eventfold version + 1, `globalPosition` its
  eventfold position + 1, and a stream's `currentStreamVersion` is its number
  of events (0n for a stream that has none). Conflicts are Emmett's own
  `ExpectedVersionConflictError`, which Emmett's command handlers recognise
  and retry.

  These scenarios drive the adapter with Emmett's own `CommandHandler` and
  `DeciderCommandHandler` from the npm package, and a shopping cart decider
  (open, add a product, confirm).

  Background:
    Given an eventfold store with Emmett's event store over it

  Rule: Emmett's command handlers run on eventfold unchanged

    Scenario: A cart is opened, filled and confirmed through Emmett's DeciderCommandHandler
      When the commands OpenShoppingCart, AddProductItem "socks" x 2, AddProductItem "shoes" x 1 and ConfirmShoppingCart are handled for "cart-1"
      Then the handler reported next expected stream versions 1, 2, 3 and 4
      And only the first command created the stream
      And eventfold's own readStream of "cart-1" holds ShoppingCartOpened, ProductItemAdded, ProductItemAdded, ShoppingCartConfirmed at versions 0 to 3
      And the confirmed cart holds 2 "socks" and 1 "shoes"

    Scenario: A command the decider refuses writes nothing
      Given the commands OpenShoppingCart and ConfirmShoppingCart were handled for "cart-1"
      When the command AddProductItem "socks" x 1 is handled for "cart-1"
      Then it failed with Emmett's IllegalStateError "Cannot add to a cart that is confirmed"
      And eventfold holds 2 events in "cart-1"

    Scenario: Emmett's CommandHandler with a plain handler function
      When Emmett's CommandHandler adds "socks" x 3 to a new cart "cart-7", opening it in the same command
      Then eventfold's own readStream of "cart-7" holds ShoppingCartOpened, ProductItemAdded at versions 0 to 1
      And the command's new state holds 3 "socks"

  Rule: Positions are bigints from 1; metadata carries the ids and positions

    Scenario: Events read through Emmett carry their positions, a distinct id and the caller's metadata
      Given 3 events were appended to "other-stream" through eventfold
      When 2 events with metadata "by" "ann" are appended to "cart-1" through Emmett
      Then Emmett's readStream of "cart-1" reports a current stream version of 2 and stream positions 1 and 2
      And their global positions are 4 and 5, each eventfold's position + 1
      And each carries stream name "cart-1", a distinct message id that is eventfold's event id, and "by" "ann"
      And Emmett's streamExists says true for "cart-1" and false for "cart-9"
      And Emmett's readStream of "cart-9" reports a current stream version of 0 and no events

    Scenario: Reading a range of positions
      Given 5 events were appended to "cart-1" through Emmett
      When Emmett reads "cart-1" from position 2 to position 4
      Then it gets stream positions 2, 3 and 4
      And with maxCount 2 from position 4 it gets stream positions 4 and 5

  Rule: Conflicts are Emmett's own, and Emmett's retry resolves them

    Scenario: An append with a stale expected version is refused with Emmett's conflict error
      Given 2 events were appended to "cart-1" through Emmett
      When Emmett appends to "cart-1" expecting stream version 1
      Then Emmett's isExpectedVersionConflictError recognises the error, an instance of Emmett's ExpectedVersionConflictError
      And the error says the current version is 2 and the expected 1
      And eventfold holds 2 events in "cart-1"

    Scenario: aggregateStream honours the expected stream version it is given
      Given 2 events were appended to "cart-1" through Emmett
      When Emmett aggregates "cart-1" expecting stream version 1
      Then Emmett's isExpectedVersionConflictError recognises the error, an instance of Emmett's ExpectedVersionConflictError
      And aggregating "cart-1" expecting stream version 2 folds 2 events

    Scenario: Two concurrent commands on one cart: the loser is retried by Emmett and both land
      Given the command OpenShoppingCart was handled for "cart-1"
      When two AddProductItem commands for "cart-1" run at once, both having read the cart at version 1, with Emmett's retry option onVersionConflict
      Then both commands succeed
      And the handler function ran 3 times: once for each command and once more for the retried one
      And eventfold's own readStream of "cart-1" holds ShoppingCartOpened, ProductItemAdded, ProductItemAdded at versions 0 to 2

    Scenario: Without Emmett's retry option the losing command fails with a conflict
      Given the command OpenShoppingCart was handled for "cart-1"
      When two AddProductItem commands for "cart-1" run at once, both having read the cart at version 1, without a retry option
      Then one command succeeds and the other fails with an error Emmett's isExpectedVersionConflictError recognises
      And eventfold holds 2 events in "cart-1"

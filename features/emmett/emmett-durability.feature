Feature: A command Emmett acknowledged on eventfold survives a power loss
  Emmett's command handler resolves only once `appendToStream` resolves, and
  the adapter resolves only once eventfold's append is durable (in the
  default 'fsync' mode: written and fdatasync'ed). So a command that
  succeeded survives a power loss, one that was cut off by it left nothing,
  and the next command after the reopen continues from the last acknowledged
  version — Emmett's expected versions stay true across the crash.

  Scenario: The power fails while a command's events are being made durable
    Given an eventfold store on a simulated disk with Emmett's event store over it
    And the commands OpenShoppingCart and AddProductItem "socks" x 2 were handled for "cart-1"
    When the power fails while the command AddProductItem "shoes" x 1 is being made durable for "cart-1"
    Then that command was not acknowledged
    When the store is opened again after the power comes back, with Emmett's event store over it
    Then eventfold's own readStream of "cart-1" holds ShoppingCartOpened, ProductItemAdded at versions 0 to 1
    And Emmett's readStream of "cart-1" reports a current stream version of 2
    When the commands ConfirmShoppingCart are handled for "cart-1"
    Then the handler reported next expected stream versions 1, 2 and 3
    And the confirmed cart holds 2 "socks" and no other product

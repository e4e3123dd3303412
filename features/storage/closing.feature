Feature: close() resolves when the store is closed
  `close()` waits for queued appends, leaves the clean-shutdown marker and
  releases the lock. Calling it again while the first call is still closing
  returns the same promise: whichever call a caller awaits, once it resolves
  the lock is released and the store can be opened again at once.

  Scenario: Two calls to close, the second awaited
    Given a new store
    And "orders" has 20 events
    When close is called twice and only the second call is awaited
    Then the store opens again at once with 20 events

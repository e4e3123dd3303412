@file-only
Feature: A projection whose rebuild after a scavenge did not finish keeps nothing of the removed events
  A scavenge that removed events folds every projection again from the
  events kept (see scavenge.feature), because the states folded so far may
  hold what was removed — an erased customer's personal data. When that
  rebuild cannot finish (the log cannot be read, a projection's `evolve`
  refuses one of the events kept, the scavenge itself fails), the old states
  must not live on, in `state()` or in a snapshot:
  a projection whose rebuild did not finish stops — its `state()` throws a
  ProjectionError saying why and what to do, it no longer judges appends —
  and no snapshot is written while a projection is stopped: automatic ones
  are skipped (`snapshotError` says why) and `checkpoint()` is refused with
  that ProjectionError. A scavenge run again rebuilds the projections (even
  if it removes nothing more); a reopen folds them from the events kept.

  Rule: No state folded from removed events outlives a rebuild that did not finish

    Background:
      Given a new store with a projection keeping each stream's last text and a snapshot every 50 events, whose segments roll every 16 KiB
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      And "orders" has 200 events
      And a checkpoint is taken
      And "customer-7" is deleted for good

    Scenario: The log cannot be read while the projection is rebuilt; a scavenge run again rebuilds it
      When the store is scavenged and the log cannot be read from the moment its last segment is in place
      Then the scavenge was refused with a StorageError
      And the projection's state is refused with a ProjectionError saying "scavenge again"
      When "orders" appends 120 events
      Then no snapshot was written since the scavenge, and the store's snapshot error is a ProjectionError
      And a checkpoint is refused with a ProjectionError
      And no file of the store holds the text "ERASE-ME-4711"
      When the store is scavenged
      Then the scavenge removed 0 events
      And the projection holds no text "ERASE-ME-4711" and is what folding the events kept gives
      When a checkpoint is taken
      Then no file of the store holds the text "ERASE-ME-4711"
      When the store is closed and opened again
      Then the projection holds no text "ERASE-ME-4711" and is what folding the events kept gives

    Scenario: The log cannot be read while the projection is rebuilt; the store is opened again
      When the store is scavenged and the log cannot be read from the moment its last segment is in place
      And "orders" appends 120 events
      And the store is closed and opened again
      Then the projection holds no text "ERASE-ME-4711" and is what folding the events kept gives
      And no file of the store holds the text "ERASE-ME-4711"

    Scenario: The application's progress callback throws once the first segment is in place; a scavenge run again rebuilds the projection
      When the store is scavenged with a progress callback that throws "progress bar crashed" after the first segment
      Then the scavenge was refused with the callback's error "progress bar crashed"
      And the projection's state is refused with a ProjectionError saying "scavenge again"
      And a checkpoint is refused with a ProjectionError
      When the store is scavenged
      Then the projection holds no text "ERASE-ME-4711" and is what folding the events kept gives
      When a checkpoint is taken
      Then no file of the store holds the text "ERASE-ME-4711"

  Rule: A projection that refuses one of the events kept stops, and no snapshot hides that from the next open

    Scenario: A projection refuses, on its rebuild, an order of a customer deleted for good
      Given a new store with a projection of customers that refuses an order of a customer it does not know, and a snapshot every 50 events
      And "customer-8" registers, then "customer-7" registers with the text "ERASE-ME-4711", then each places 3 orders
      And "customer-7" is deleted for good
      When the store is scavenged
      Then the projection of customers is refused with a ProjectionError naming the event it refused
      When "customer-8" places 120 orders
      Then all 120 orders were acknowledged
      And no snapshot was written since the scavenge, and the store's snapshot error is a ProjectionError
      And a checkpoint is refused with a ProjectionError
      And no file of the store holds the text "ERASE-ME-4711"
      When the store is closed and opened again, capturing the error
      Then the open was rejected with a ProjectionError

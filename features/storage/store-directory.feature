@file-only
Feature: A store stays in the directory it was opened in
  A relative directory is resolved once, when the store opens — also when a
  NodeFileSystem is passed explicitly — so a later change of the process's
  working directory never sends writes (new segments, the clean-shutdown
  marker) into another directory that holds no lock.

  Scenario: The working directory changes while the store is open
    Given a working directory "shop" and another one "warehouse", each holding an empty folder "ledger"
    And a store opened as the relative directory "ledger" from "shop" with an explicit NodeFileSystem and segments of 1 KiB
    And "orders" has 20 events
    When the process changes its working directory to "warehouse"
    And "orders" appends 20 more events
    And the store is closed
    Then the "ledger" of "shop" holds 40 events
    And the "ledger" of "warehouse" is still empty

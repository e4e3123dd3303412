@file-only
Feature: What a repair set aside in quarantine is erased like the log
  A repair sets damaged log bytes aside in quarantine, the damaged record
  and every record after it, and never deletes them; a scavenge erases
  there what it erases in the log. The custom metadata of a stream deleted
  for good goes too, also from the records a repair set aside.

  Scenario: Custom metadata set aside by a repair, of a stream then deleted for good
    Given a new store
    And "orders" has 20 events
    And a repair has set aside in quarantine the custom metadata of "customer-7" holding the text "ERASE-ME-4711"
    When "customer-7" is deleted for good
    And the store is scavenged
    Then no file of the store holds the text "ERASE-ME-4711"
    And reading "orders" forward returns 20 events, versions 0 to 19

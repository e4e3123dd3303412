@recovery
Feature: A rejected append never comes back in the process that rejected it
  When a write or its fsync fails, the append is rejected and the store stops.
  The rejected bytes may still sit whole in the operating system's cache, so
  the store cuts the file back to the end of the last acknowledged write. If
  that cut fails too, the process remembers where the acknowledged bytes end,
  and its next open of the store cuts the file there before it reads the log,
  and says so in the recovery report.

  Background:
    Given the store lives on a simulated disk

  Rule: A reopen in the same process never shows a rejected append

    Scenario: The fsync fails, and so does cutting the rejected write back
      Given a new store
      And "account-7" has 1 event
      When the disk will fail the next fsync of the log and then the next cut of the log
      And "account-7" appends a withdrawal of 1000, which is rejected with a StoreFailedError
      And the failed store is closed and opened again
      Then stream "account-7" holds exactly 1 event
      And the recovery report says one rejected write was cut from the log

    Scenario: After the cut the store takes appends again and keeps them through a power cut
      Given a new store
      And "account-7" has 1 event
      When the disk will fail the next fsync of the log and then the next cut of the log
      And "account-7" appends a withdrawal of 1000, which is rejected with a StoreFailedError
      And the failed store is closed and opened again
      And "account-7" gets 3 more events, each acknowledged
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "account-7" holds exactly 4 events

@recovery
Feature: Events of every allowed size are read back by recovery
  `maxEventBytes` may be raised up to 16 MiB. An event that size is one
  record; the scan on open reads a record as long as its checked header says
  — never more than the 16 MiB maximum — wherever it sits in a segment.

  Background:
    Given the store lives on a simulated disk
    And a new store with:
      | maxEventBytes | 16 MiB |

  Rule: A large event that was acknowledged is there after every kind of reopen

    Scenario: A 5 MiB event survives a clean close and reopen
      When "video-1" appends a 5 MiB event
      And the store is closed and opened again
      Then stream "video-1" holds the 5 MiB event, byte for byte

    Scenario: A 5 MiB event survives the machine stopping
      When "video-1" appends a 5 MiB event
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "video-1" holds the 5 MiB event, byte for byte

    Scenario: A 16 MiB event as the first record of a segment that is not the last
      Given the store's segments roll every 1 KiB
      And "meter-1" has 20 events
      When "video-1" appends a 16 MiB event
      And "meter-1" appends 5 events
      And the store is closed and opened again
      Then stream "video-1" holds the 16 MiB event, byte for byte
      And stream "meter-1" holds exactly 25 events
      And the log is made of more than 2 segment files

@recovery
Feature: A repair of damage in a scavenged segment leaves a store that opens and keeps what is appended next
  A scavenged segment's header says how many positions it spans and where
  its kept records end. When `repair: 'truncate'` cuts the log inside one, it
  rewrites that header to say what the cut leaves, and the next appends go
  to a new segment after it: the repaired store opens again, and an append
  acknowledged then is never lost to a later open or repair. The repair is
  a transaction (repair-transaction.feature): a power cut at any of its disk
  operations leads the next open to the same store.

  Background:
    Given a scavenged store on a simulated disk in segments of 4 KiB where one bit flips in a kept record of its second segment

  Rule: The repaired store opens again and keeps every later append

    Scenario: Repaired and closed, the store opens again and keeps 5 events appended after the repair
      When the store is opened with repair "truncate", then opened again and again while 5 events are appended
      Then every run ends with the events before the damage, and the 5 appended after the repair survive every later open

    Scenario Outline: The power is cut at each disk operation of the repair, and the disk <policy>
      When the repair of the scavenged segment is cut by a power loss at each of its disk operations in turn and the disk <policy>
      Then every run ends with the events before the damage, and the 5 appended after the repair survive every later open

      Examples:
        | policy                                                            |
        | drops every unsynced write                                        |
        | keeps every unsynced write                                        |
        | keeps only half of the last unsynced write                        |
        | writes back a random subset of the dirty pages, 4 subsets per cut |

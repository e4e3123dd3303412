@recovery
Feature: Any single damage to a closed, scavenged store is caught, repaired on request, or harmless
  The same sweep as for a store never scavenged (corruption-sweep.feature),
  on a store whose sealed segments a scavenge rewrote: their positions have
  holes and their headers say where their kept records end, and a snapshot
  taken after the scavenge lets the open skip them. Damage there — even a
  scavenged segment cut back to a record boundary or to its header — must be
  named like anywhere else, never read as "removed by the scavenge", and a
  repair of it must leave a store that opens again and keeps what is
  appended next.

  Background:
    Given a cleanly closed store on a simulated disk with 300 events in segments of 8 KiB, scavenged after one stream was deleted for good and one kept only its last 4 events, then a snapshot, 60 more events and a subscription checkpoint

  Rule: No damage ever loses or changes events silently

    Scenario: 2000 single damages at random places in every file of a scavenged store
      When 2000 copies of the store each get one damage — a flipped bit, a zeroed range, a truncation or appended garbage — at a random place in one of its files, from seed 2027
      And each damaged copy is opened, and opened again with repair "truncate" when the first open fails
      Then every damaged file of the store was hit at least 20 times
      And every open ended in a typed error or a store with all 310 events as appended
      And every repair kept a prefix of the events as appended and reported what it set aside
      And every repaired store opens again, takes an append and keeps it over the next open
      And no event was ever read back changed

@recovery
Feature: Any single damage to a closed store is caught, repaired on request, or harmless
  A store's files can be damaged behind its back: a bit flips on the disk,
  a range of bytes reads back as zeros, a file is cut short, or bytes are
  added to its end. Whatever is hit — a log segment, a snapshot, a
  subscription's checkpoint, the clean-shutdown marker — opening the store
  must never hand back fewer or different events without a word.

  The sweep damages copies of one cleanly closed store, one damage per copy,
  at seeded random places in every one of its files, and opens each copy.
  Every open must end in one of three ways: a typed error (an
  EventfoldError that names what is wrong), a store whose events are all
  there and equal to what was appended, or — when the operator then opens it
  with `repair: 'truncate'` — a store whose events are a prefix of what was
  appended, with the loss reported. `npm run features:sweep` runs the same
  sweep with 50,000 damages.

  Background:
    Given a cleanly closed store on a simulated disk with 300 events in segments of 8 KiB, a snapshot and a subscription checkpoint

  Rule: No damage ever loses or changes events silently

    Scenario: 2000 single damages at random places in every file
      When 2000 copies of the store each get one damage — a flipped bit, a zeroed range, a truncation or appended garbage — at a random place in one of its files, from seed 2026
      And each damaged copy is opened, and opened again with repair "truncate" when the first open fails
      Then every damaged file of the store was hit at least 20 times
      And every open ended in a typed error or a store with all 300 events as appended
      And every repair kept a prefix of the events as appended and reported what it set aside
      And every repaired store opens again, takes an append and keeps it over the next open
      And no event was ever read back changed

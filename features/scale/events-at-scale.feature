@scale @slow
Feature: Events at scale in one store, with memory that does not grow with them
  The persistence test at scale: the run's events, over one stream per 100
  events, go in through the public API, with fsync durability and 2,000
  appends of 10 events in flight; the store is closed, reopened and every
  event read back and compared with what was written. Each event's stream,
  version and content follow from its position, so the check needs no memory.

  `EVENTFOLD_SCALE=<events>` sets the scale. `npm test` runs it at 1,000,000
  events over 10,000 streams; `npm run features:100m` at 100,000,000 events
  over 1,000,000 streams (see the README for how long that takes and how much
  disk it needs). Each scenario reports the scale it ran at ("scale run",
  "streams") and, for the crash, the share of the events acknowledged when
  the kill landed; the living documentation shows them beside the title. The work runs in a separate process whose peak memory is measured:
  nothing in eventfold's memory grows with the number of events — only with
  the number of streams — so it stays under 1 GiB at any scale. (Those
  processes cap Node's heap at 768 MiB, so that the figure measures live
  memory, not garbage V8 had not yet bothered to collect.)

  Background:
    Given a run at the scale EVENTFOLD_SCALE sets, 1000000 events unless it is set
    And there is enough free disk for that scale

  Rule: Every acknowledged event is there, exactly, after a reopen

    Scenario: Every event of the run is written, reopened and read back
      When a separate process appends all the events, 10 per append, 2,000 appends in flight
      And a separate process reopens the store and reads every event back
      Then every event came back once, in position order, with the content that was written
      And 1000 sampled streams read back whole, in version order, with readStream
      And the "totals" projection holds the expected count, amount sum and withdrawals
      And the peak memory of each working process stayed under 1 GiB

  Rule: A crash in the middle of the run loses nothing that was acknowledged

    Scenario: The appending process is killed with SIGKILL as soon as half the events are acknowledged, then the run is completed
      When a separate process appends the events and is killed with SIGKILL as soon as half of them are acknowledged
      And a new process reopens the store and appends the rest
      Then the reopened store held every event acknowledged before the kill
      When a separate process reopens the store and reads every event back
      Then every event came back once, in position order, with the content that was written
      And 1000 sampled streams read back whole, in version order, with readStream
      And the "totals" projection holds the expected count, amount sum and withdrawals
      And the peak memory of each working process stayed under 1 GiB

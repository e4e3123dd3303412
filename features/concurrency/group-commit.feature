Feature: Many callers append at once through one group-commit writer
  Appends from any number of callers are taken in order, given their
  positions at once, and queued. One writer turns everything queued into a
  single batch: one write and one fsync, then every caller in the batch is
  answered. A batch closes when it reaches its size limit, or its delay
  after its first event. The queue is bounded: when it is full, new appends
  wait for room instead of using more and more memory.

  Rule: Concurrent appends get gapless, unique positions

    Scenario: 1,000 callers append one event each at the same time
      Given a new store
      When 1000 callers each append 1 event to their own stream at the same time
      Then all 1000 appends succeed with the distinct positions 0 to 999
      And reading all events returns 1000 events with positions 0 to 999

  Rule: One fsync makes a whole batch of callers durable

    Background:
      Given the store lives on a simulated disk

    @file-only
    Scenario: 2,000 concurrent appends need only a handful of fsyncs
      Given a new store
      When 2000 callers each append 1 event to their own stream at the same time
      Then all 2000 appends succeed with the distinct positions 0 to 1999
      And the log was fsynced at most 5 times for those appends

    @file-only
    Scenario: A batch closes when it reaches 100 events
      Given a new store with:
        | maxBatchEvents | 100 |
      When 1000 callers each append 1 event to their own stream at the same time
      Then all 1000 appends succeed with the distinct positions 0 to 999
      And the log was written in 10 batches of 100 events

    @file-only
    Scenario: A batch with a delay still closes on time under a steady trickle
      The delay runs from a batch's first event; it is not an idle timer that
      a steady trickle of appends would keep pushing back.

      Given a new store with:
        | maxBatchDelayMs | 5 |
      When 50 events trickle in, one every millisecond, without waiting for each other
      Then all 50 appends succeed
      And the first append was acknowledged before the last one was made
      And the log was fsynced more than 2 times for those appends

  Rule: A full queue makes callers wait instead of growing without bound

    Scenario: 5,000 appends against a queue of 100 events
      Given a new store with:
        | maxQueueEvents | 100 |
      When 5000 callers each append 1 event to their own stream at the same time
      Then all 5000 appends succeed with the distinct positions 0 to 4999
      And the queue never held more than 100 events

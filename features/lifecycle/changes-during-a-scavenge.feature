@file-only
Feature: Lifecycle changes made while a scavenge runs
  A scavenge judges each segment by the retention and deletions in force,
  writes the segment's rewrite, then puts it in place. A change of the
  retention or a deletion acknowledged before a segment is put in place
  counts for it: the segment is judged again. Nothing a loosened retention
  keeps again is removed.

  Rule: A retention loosened while a segment is rewritten keeps its events

    Scenario: maxCount 1 is lifted while the scavenge writes its first rewritten segment
      Given a store on a simulated disk with segments of 4 KiB where "orders" has 50 events with maxCount 1, between 50 events of "other"
      When a scavenge runs and, while it writes its first rewritten segment, the metadata of "orders" is set to keep every event
      Then the change was acknowledged during the scavenge, and "orders" read 50 events then
      And "orders" reads 50 events, versions 0 to 49, after the scavenge and after a reopen

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

  Rule: A scavenge covers every change called before it, also one still on its way to disk

    Scenario: An append holding personal data, a hard delete of its stream and a scavenge, called one after the other without waiting
      Given a new store
      And "orders" has 20 events
      When "customer-7" appends 1 event holding the text "ERASE-ME-4711", is deleted for good and the store is scavenged, all called at once
      Then all three calls succeeded and the scavenge removed 1 event
      And no file of the store holds the text "ERASE-ME-4711"

    Scenario: Custom metadata, a hard delete of its stream and a scavenge, called one after the other without waiting
      Given a new store
      And "orders" has 20 events
      When custom metadata holding the text "ERASE-ME-4711" is given to "customer-7", which is deleted for good, and the store is scavenged, all called at once
      Then all three calls succeeded and the scavenge removed 0 events
      And no file of the store holds the text "ERASE-ME-4711"

  Rule: Only a change of a stream a segment removes events of makes it be judged again

    Scenario: Metadata of other streams set while the first 3 rewritten segments are written does not hold the scavenge up
      Given a store on a simulated disk with segments of 4 KiB where "orders" has 50 events with maxCount 1, between 50 events of "other"
      When a scavenge runs and, while it writes each of its first 3 rewritten segments, the metadata of a stream it removes nothing of is set
      Then each segment's rewrite was written once
      And "orders" reads 1 event, version 49, after the scavenge

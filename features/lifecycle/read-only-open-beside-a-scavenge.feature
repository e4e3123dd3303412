@file-only
Feature: A read-only open beside a scavenging application never reports lost events
  `eventfold read`, `backup`, `info` and `verify` look at a store while the
  application keeps writing to it. An open that starts from a snapshot reads
  the snapshot first, then the log from where the snapshot says its part
  ends. A scavenge removes every snapshot before it puts its rewritten,
  shorter segments in place, so an open that read the snapshot just before
  finds the log no longer where the snapshot said. That is not lost events:
  the open passes the removed snapshot over (or starts again) and finds the
  store healthy. A log that really ends before a snapshot that is still in
  place has lost acknowledged events, and the open and `info` say so.

  Background:
    Given a store on a simulated disk with segments of 4 KiB and a snapshot, where "keep" has 60 events between those of a stream deleted for good after the snapshot

  Rule: A scavenge at any moment of a read-only open or an inspection is never taken for lost events

    Scenario: The application scavenges just before each disk call of a read-only open that starts from the snapshot, of its reads and of its background check
      When the application scavenges during a read-only open, just before the open's first, second, … last disk call, also of its reads and of its check of the log the snapshot covers
      Then every read-only open succeeded, read all 60 events of "keep" and found the log healthy
      And in every run the scavenge removed the 60 events of the deleted stream
      And some opens started from the snapshot, and some passed it over as removed while they read it

    Scenario: The application scavenges just before each disk call of eventfold info
      When the application scavenges during eventfold info, just before its first, second, … last disk call
      Then every inspection said the store is healthy, with 1 stream
      And in every run the scavenge removed the 60 events of the deleted stream

  Rule: Starting over never hides damage

    Scenario: Damage under the snapshot is named whenever the snapshot is removed during the read-only open
      When one bit flips in an event of "keep" in the first segment, under the snapshot
      And the snapshot is removed just before each disk call of a read-only open in turn
      Then every read-only open named the damaged segment, by failing with a CorruptionError or by finding its log damaged

  Rule: A log that ends before a snapshot still in place has lost events

    Scenario: The segment where the snapshot ends is cut short: the read-only open and eventfold info name the loss
      When the segment where the snapshot ends is cut short by the snapshot's last record
      And the store is opened read-only and inspected
      Then the read-only open failed with a CorruptionError saying "acknowledged events are missing from the log"
      And eventfold info says the store is not healthy: "acknowledged events are missing from the log"

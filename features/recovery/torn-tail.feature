@recovery
Feature: A torn tail is cut away on open
  When the machine stops in the middle of a write, the end of the last
  segment can hold part of a record: a few bytes of its header, half its
  body, zeros where the file grew but the data never landed, or leftovers
  that are not a record at all. None of it was ever acknowledged, because an
  append is acknowledged only after its whole batch is on disk. On open,
  eventfold cuts the last segment back to the end of the last complete
  batch, syncs the cut before anything new is written, and says what it cut
  in the recovery report.

  Rule: A log cut at any byte of its last record keeps every earlier record

    Scenario: The last record is cut at every one of its byte offsets
      Given a store on a simulated disk holding 19 events and then 1 more event in its own append
      When the log is cut at every byte offset of the last record, and each cut copy is opened
      Then every cut copy opens with the first 19 events
      And every cut copy reports exactly the bytes of the torn record it truncated
      And in every cut copy the truncation was synced before the store accepted an append

    Scenario: After a torn tail is cut, new appends land cleanly and survive the next crash
      Given a store on a simulated disk holding 19 events and then 1 more event in its own append
      When the log is cut in the middle of the last record and opened
      And 5 more events are appended and acknowledged
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then reading all events returns 24 events with positions 0 to 23
      And the recovery report shows no torn tail

  Rule: Zeros or leftovers at the end are a torn tail, not corruption

    Scenario: 4,096 zero bytes after the last record
      The file grew but its data never reached the disk.

      Given a store on a simulated disk holding 30 events
      When 4096 zero bytes are added after the last record
      And the store is opened again
      Then reading all events returns 30 events with positions 0 to 29
      And the recovery report says 4096 bytes of torn tail were truncated

    Scenario: 700 bytes of leftovers that hold no valid record
      Given a store on a simulated disk holding 30 events
      When 700 bytes of leftovers with no valid record are added after the last record
      And the store is opened again
      Then reading all events returns 30 events with positions 0 to 29
      And the recovery report says 700 bytes of torn tail were truncated

  Rule: Damage with a valid record after it is corruption, never silently skipped

    Scenario: Leftovers followed by a valid record
      Given a store on a simulated disk holding 30 events
      When 50 bytes of leftovers and then a copy of a valid record are added after the last record
      And the store is opened again
      Then the open fails with a CorruptionError saying "valid records follow it"

  Rule: Two half-written appends are never glued into one

    Scenario: A torn append is cut before the next append is written after it
      Given a new store on a simulated disk
      And "invoice-3" has 10 events
      When the power fails while a 100-event batch is being written, half of it on the disk
      And the store is opened after the power comes back
      Then the last segment ends exactly where the 10th event ends
      When "invoice-3" appends 3 events expecting version 9
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "invoice-3" holds exactly 13 events

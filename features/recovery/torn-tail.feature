@recovery
Feature: After a crash, only the last, unacknowledged write is cut
  When the machine stops in the middle of a write, the end of the last
  segment can hold part of that write: a few bytes of a record header, half
  a record, zeros where the file grew but the data never landed, or pages
  that reached the disk out of order. None of it was ever acknowledged: an
  append is acknowledged only after its whole write (its group-commit
  batch) is fsynced, and the next write starts only after that. So at most
  one write — the last — can be torn.

  Every record names the write that carried it (where it starts and how
  long it is). On open after a crash, eventfold finds the first damaged
  byte of the last segment and reads every valid record after it. If none
  of them belongs to a later write, the damage is the torn last write: the
  segment is cut back to the end of the last complete append, the cut is
  synced before anything new is written, and the recovery report says how
  many bytes and events were cut. If a later write follows the damage, the
  damaged write was acknowledged: that is corruption, never cut silently.

  Background:
    Given the store lives on a simulated disk

  Rule: A log cut at any byte of its last record keeps every earlier record

    Scenario: The last record is cut at every one of its byte offsets
      Given a store holding 19 events and then 1 more event in its own append
      When the log is cut at every byte offset of the last record, and each cut copy is opened
      Then every cut copy opens with the first 19 events
      And every cut copy reports exactly the bytes of the torn record it truncated
      And in every cut copy the truncation was synced before the store accepted an append

    Scenario: After a torn tail is cut, new appends land cleanly and survive the next crash
      Given a store holding 19 events and then 1 more event in its own append
      When the machine stopped while the last record was half written, and the store is opened
      And 5 more events are appended and acknowledged
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then reading all events returns 24 events with positions 0 to 23
      And the recovery report shows no torn tail

  Rule: Zeros or leftovers at the end are a torn tail, not corruption

    Scenario: 4,096 zero bytes after the last record
      The file grew but its data never reached the disk.

      Given a store holding 30 events when the machine stops
      When 4096 zero bytes are added after the last record
      And the store is opened again
      Then reading all events returns 30 events with positions 0 to 29
      And the recovery report says 4096 bytes of torn tail were truncated

    Scenario: 700 bytes of leftovers that hold no valid record
      Given a store holding 30 events when the machine stops
      When 700 bytes of leftovers with no valid record are added after the last record
      And the store is opened again
      Then reading all events returns 30 events with positions 0 to 29
      And the recovery report says 700 bytes of torn tail were truncated

  Rule: The torn last write is cut whatever order its pages reached the disk

    Scenario: The first page of the last write is lost but its later pages landed
      The page cache writes dirty pages back in any order: here the write's
      first 4 KiB never reached the disk, the rest did.

      Given a new store
      And "invoice-3" has 10 events
      When the machine stops after a 100-event write whose first 4 KiB page never reached the disk
      And the store is opened after the power comes back
      Then stream "invoice-3" holds exactly 10 events
      And the recovery report says all 100 events of the torn write were discarded

    Scenario: A torn event whose own data looks like records
      An event can carry anything as data — here a copy of another store's
      log, full of valid records. Those records belong to no write of this
      log, so they are cut with the torn event, not taken as proof of damage.

      Given a new store
      And "archive" has 10 events
      When the machine stops while an event carrying a copy of 50 records as its data is written, half of it on the disk
      And the store is opened after the power comes back
      Then stream "archive" holds exactly 10 events
      And the recovery report says 1 event of the torn write was discarded

    Scenario: A torn upload whose data holds a record claiming to start the next write
      The record sits inside the upload's own write, at the very place it
      names as its write's start, with the next position. The torn record's
      header says where its write ends: only a write starting there or later
      proves that the torn write was followed by another.

      Given a new store with:
        | maxEventBytes | 4 MiB |
      And "acct" has 10 events
      When the machine stops while a 2 MiB upload is written, half of it on the disk, its data holding a record that claims to start the next write
      And the store is opened after the power comes back
      Then stream "acct" holds exactly 10 events
      And the recovery report says 1 event of the torn write was discarded

    Scenario: Every subset of the pages of a torn 100-event write
      Given a new store
      And "invoice-3" has 10 events
      When the machine stops after a 100-event write, and each subset of its dirty pages is what reached the disk
      Then every subset opens with "invoice-3" holding either 10 events or all 110
      And every subset that lost part of the write reports the cut

    Scenario: One flipped bit at each byte of the last, unacknowledged write
      Given a store holding 19 events and then 1 more event in its own append
      When one bit is flipped at each byte of the last write in turn, on copies of the store as the machine left it
      Then every copy opens with the first 19 events
      And every copy reports the last write's bytes as cut, and its event as discarded whenever its header survived

  Rule: The report says only what a crash lets us know about the cut write

    Scenario: A flipped bit in the last acknowledged write is cut, and the report does not call it unacknowledged
      All 30 appends were acknowledged; then one bit of the last flipped. A
      torn write looks the same after a crash, so the open cuts it like one,
      and says that it may have been acknowledged.

      Given a store holding 30 events when the machine stops
      When one bit flips in the body of the last record of the log
      And the store is opened again
      Then the store opens with the first 29 events
      And the recovery report says of the cut write: "the last write was damaged or torn; it may have been acknowledged"
      And the recovery report never says of the cut write: "never acknowledged"

  Rule: Damage with a later write after it is corruption, never cut

    Scenario: A flipped bit in the second-to-last write
      Given a store holding 30 events when the machine stops
      When one bit flips in the body of record 29
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "a later write follows it"

    Scenario: Leftovers followed by a whole later write
      Given a store holding 30 events when the machine stops
      When 50 bytes of leftovers and then a whole write of 1 event are added after the last record
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "a later write follows it"

  Rule: Resynchronising after damage costs time linear in the bytes read

    Scenario: One flipped bit in a torn 16 MiB event
      Given a new store with:
        | maxEventBytes | 16 MiB |
      And "video-1" has 2 events
      When the machine stops while a 16 MiB event is written, with one bit of its data flipped
      And the store is opened after the power comes back
      Then stream "video-1" holds exactly 2 events
      And opening checked at most 2 bytes of record bodies for each byte of the log

    Scenario: A torn event whose data is thousands of record headers, each claiming a long body
      Each 64-byte copy passes its header check and claims half a megabyte of
      body that never passes. Only bodies that can matter are checked, and no
      byte twice: the work grows with the log, not with its square.

      Given a new store with:
        | maxEventBytes | 16 MiB |
      And "video-1" has 2 events
      When the machine stops while a 1 MiB event is written whose data repeats a record header claiming a body of half its size
      And the store is opened after the power comes back
      Then stream "video-1" holds exactly 2 events
      And opening checked at most 2 bytes of record bodies for each byte of the log
      And counting the records in the log, as a repair does for the bytes it sets aside, checked at most 2 bytes of record bodies for each byte

  Rule: Two half-written appends are never glued into one

    Scenario: A torn append is cut before the next append is written after it
      Given a new store
      And "invoice-3" has 10 events
      When the power fails while a 100-event batch is being written, half of it on the disk
      And the store is opened after the power comes back
      Then the last segment ends exactly where the 10th event ends
      When "invoice-3" appends 3 events expecting version 9
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "invoice-3" holds exactly 13 events

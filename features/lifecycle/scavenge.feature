Feature: Scavenge gives the disk back
  Retention and deletion only hide events; `store.scavenge()` (or
  `eventfold scavenge <dir>`) rewrites the log's segments without them. The
  segment being appended to is sealed first, so the scavenge covers every
  event up to its start. It runs while the store keeps appending and
  reading, reports its progress, and keeps every remaining event exactly as
  it was — position, version, id, timestamp, data and metadata. Positions
  are never reused: the next append takes the next position as before.
  A power cut at any point of a scavenge leaves each segment either as it
  was or as rewritten, and never loses a kept event. A stream's last event
  stays stored, hidden, unless the stream was deleted for good: the stream's
  version survives in it.
  The scenarios that are not about files run on PostgreSQL too, where a
  scavenge deletes rows instead (features/postgres/scavenge.feature).

  Rule: What retention and deletion removed leaves the disk

    @file-only
    Scenario: A store of 20 MB in which 90% is deleted shrinks to about 10%
      Given a new store with:
        | segmentSize | 1024 KiB |
      And 10 streams of 2000 events of 1 KB each
      And 9 of those streams are deleted
      When the store is scavenged
      Then the log takes between 9% and 12% of its bytes before
      And no file the scavenge replaced is still open in this process: its disk space is free already
      And the scavenge reported its progress segment by segment
      And every kept event reads back exactly as before, at the same position
      And the next append takes the position after the last one
      When the store is closed and opened again
      Then every kept event reads back exactly as before, at the same position
      And eventfold verify says the store is healthy

    @file-only @gigabyte
    Scenario: A store of 1 GB in which 90% is deleted shrinks to about 100 MB (npm run features:scavenge-1gb)
      Given a new store
      And 10 streams of 100000 events of 1 KB each
      And 9 of those streams are deleted
      When the store is scavenged
      Then the log takes between 9% and 12% of its bytes before
      And no file the scavenge replaced is still open in this process: its disk space is free already
      And every kept event reads back exactly as before, at the same position

    Scenario: A stream of 1,000 events with maxCount 100 keeps its last 100 in storage too
      Given a new store whose segments roll every 16 KiB on the file log
      And "sensor-1" has 1000 events
      And "sensor-2" has 50 events
      And the metadata of "sensor-1" is set to maxCount 100
      When the store is scavenged
      Then the scavenge removed 900 events
      And the storage holds 100 events of "sensor-1" and 50 of "sensor-2"
      And reading "sensor-1" forward returns 100 events, versions 900 to 999
      And reading "sensor-1" backward returns 100 events, versions 999 to 900
      When "sensor-1" appends 5 events
      And the store is closed and opened again
      Then reading "sensor-1" forward returns 100 events, versions 905 to 1004
      And reading "sensor-2" forward returns 50 events, versions 0 to 49
      And the storage checks out healthy

    Scenario: A stream whose every event expired keeps its version through a scavenge and a reopen
      Given a new store whose segments roll every 16 KiB on the file log
      And "ledger-2" has 5 events
      And "other" has 20 events
      And the metadata of "ledger-2" is set to maxAge 3600000 ms
      And the clock moves forward by 2 hours
      When the store is scavenged
      Then the scavenge removed 4 events
      And reading "ledger-2" forward returns 0 events
      When the store is closed and opened again
      And "ledger-2" appends 1 event
      Then reading "ledger-2" forward returns 1 events, versions 5 to 5

    Scenario: A soft-deleted stream appended to after a scavenge and a reopen continues its versions
      Given a new store whose segments roll every 16 KiB on the file log
      And "old-7" has 5 events
      And "other" has 20 events
      And "old-7" is deleted
      When the store is scavenged
      Then the scavenge removed 4 events
      When the store is closed and opened again
      And "old-7" appends 1 event
      Then reading "old-7" forward returns 1 events, versions 5 to 5

  Rule: After a hard delete and a scavenge the deleted bytes are gone from every file of the store

    @file-only
    Scenario: An erasure request: the marker is found nowhere in the store any more
      Given a new store with:
        | segmentSize | 16 KiB |
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      And "orders" has 200 events
      And a checkpoint is taken
      And a repair has set aside a copy of some of "customer-7"'s events in quarantine
      When "customer-7" is deleted for good
      And the store is scavenged
      Then no file of the store holds the text "ERASE-ME-4711"
      And reading "orders" forward returns 200 events, versions 0 to 199

    @file-only
    Scenario: The erased stream's metadata goes too, replaced values included; other streams keep only their current metadata
      Given a new store with:
        | segmentSize | 4 KiB |
      And the metadata of "customer-7" is set to custom {"email":"ERASE-ME-4711@example.com"}
      And the metadata of "customer-7" is set to custom {"email":"ERASE-ME-4712@example.com"}
      And "customer-7" has 5 events
      And the metadata of "orders" is set to custom {"owner":"OLD-OWNER-1"}
      And the metadata of "orders" is set to custom {"owner":"OWNER-2"} and maxCount 100
      And "orders" has 200 events
      When "customer-7" is deleted for good
      And the store is scavenged
      Then the scavenge erased 3 metadata records
      And no file of the store holds the text "ERASE-ME-4711"
      And no file of the store holds the text "ERASE-ME-4712"
      And no file of the store holds the text "OLD-OWNER-1"
      When the store is closed and opened again
      Then the metadata of "orders" says custom {"owner":"OWNER-2"} and maxCount 100
      And reading "orders" forward returns 100 events, versions 100 to 199
      When an append to "customer-7" is tried
      Then the last append was rejected with a StreamDeletedError
      And eventfold verify says the store is healthy

    @file-only
    Scenario: Erasure wins over forensics: a damaged record in quarantine is zeroed too
      A repair always quarantines the damaged record itself. Its stream cannot
      be trusted, so its bytes may be anyone's: a scavenge keeps in quarantine
      only the records it can prove are events still kept, and zeroes the rest.
      Given a new store with:
        | segmentSize | 16 KiB |
      And "orders" has 20 events
      And "customer-7" has 6 events holding the text "ERASE-ME-4711"
      And one bit flips in the data of the first event of "customer-7", and a repair sets it aside with the 5 after it
      When "customer-7" is deleted for good
      And the store is scavenged
      Then no file of the store holds the text "ERASE-ME-4711"
      And reading "orders" forward returns 20 events, versions 0 to 19

  Rule: A scavenge a call returns covers every change made before the call, or says that it did not finish

    @file-only
    Scenario: A scavenge asked for right after a hard delete, while another scavenge runs, still erases the deleted stream
      Given a new store with:
        | segmentSize | 4 KiB |
      And "customer-7" has 100 events holding the text "ERASE-ME-4711"
      And "sensor-1" has 300 events
      And the metadata of "sensor-1" is set to maxCount 1
      When a scavenge runs and, after its first segment, "customer-7" is deleted for good and a scavenge is asked for at once
      Then the scavenge asked for after the delete started once the running one had ended
      And no file of the store holds the text "ERASE-ME-4711"

    @file-only
    Scenario: Closing the store stops a running scavenge between segments, and its promise says it did not finish
      Given a new store with:
        | segmentSize | 4 KiB |
      And "customer-7" has 100 events holding the text "ERASE-ME-4711"
      And "customer-7" is deleted for good
      When a scavenge runs and the store is closed after its first segment
      Then the scavenge was rejected with a StoreClosedError saying "1 of"
      When the store is opened again
      And the store is scavenged
      Then no file of the store holds the text "ERASE-ME-4711"

  Rule: Appends and reads go on during a scavenge

    Scenario: 500 appends race a scavenge and all of them are kept
      Given a new store whose segments roll every 16 KiB on the file log
      And "old" has 2000 events
      And "old" is deleted
      When the store is scavenged while 500 appends to "new" are made and "new" is read
      Then all 500 appends were acknowledged and "new" reads back 500 events
      And the scavenge removed 1999 events
      And the store is closed and opened again
      And reading "new" forward returns 500 events, versions 0 to 499
      And the storage checks out healthy

    Scenario: Streams whose kept events lie in segments being rewritten read back whole during the scavenge
      Given a new store whose segments roll every 4 KiB on the file log
      And "sensor-1" has 1000 events
      And "sensor-2" has 300 events
      And "visit-9" has 300 events
      And the metadata of "sensor-1" is set to maxCount 100
      And "visit-9" is deleted
      When the store is scavenged while "sensor-1" and "sensor-2" are read both ways again and again
      Then every read of "sensor-1" returned versions 900 to 999 and every read of "sensor-2" versions 0 to 299

    @file-only
    Scenario: Stream reads that began before the scavenge read the rest of the stream after it
      Given a new store with:
        | segmentSize | 4 KiB |
      And "sensor-2" and "visit-9" have 600 events each, appended in turns
      And "visit-9" is deleted
      When "sensor-2" is read forward and backward up to their 300th event
      And the store is scavenged
      And the rest of both reads is read
      Then the forward read returned versions 0 to 599 and the backward read versions 599 to 0

    @file-only
    Scenario: Reads of a stream whose events lie in the segments being rewritten, and a retried append, race a scavenge at every disk read
      Given a store on a simulated disk with segments of 4 KiB, where "keep" has 200 events between those of a deleted stream
      When the application scavenges it while "keep" is read forward, backward and from version 150 over and over, and its last append is retried
      Then no read failed or returned other events, and at least 10 of them ran across a segment swap

  Rule: A power cut during a scavenge never loses a kept event

    @file-only
    Scenario Outline: The power is cut at every fsync point of a scavenge and the disk <keeps>
      Given a store on a simulated disk with segments of 4 KiB where half of the streams were deleted and one has maxCount 3
      When the power is cut at each fsync point of a scavenge in turn and the disk <keeps>
      Then after every cut each segment is either as it was or as the scavenge rewrote it
      And after every cut the store opens with every kept event exactly as before
      And after every cut a second power cut during the next open changes nothing of that

      Examples:
        | keeps                                                           |
        | drops every unsynced write                                      |
        | keeps every unsynced write                                      |
        | keeps only half of the last unsynced write                      |
        | writes back a random subset of the dirty pages, 4 subsets per cut |

  @file-only
  Rule: No snapshot outlives the segments a scavenge rewrites, whatever the crash point

    A snapshot records byte offsets of the segments it covers and projection
    states folded from events a scavenge may remove. The scavenge removes
    every snapshot (and fsyncs snapshots/) before it puts its first rewritten
    segment in place, so no crash leaves one that no longer matches the log,
    nor one holding what was erased.

    Scenario Outline: A checkpoint ends in the segment the scavenge seals; the power is cut at every disk call of the scavenge and the disk <keeps>
      Given a store on a simulated disk with segments of 4 KiB where half of the streams were deleted and one has maxCount 3, the one deleted for good held the text "ERASE-ME-4711", a projection keeps each stream's last text and a checkpoint was taken last
      When the power is cut at each disk call of a scavenge in turn and the disk <keeps>
      Then the checkpoint ends in a segment that the scavenge rewrote
      And after every cut each segment is either as it was or as the scavenge rewrote it
      And after every cut the store opens with every kept event exactly as before
      And after every cut a second power cut during the next open changes nothing of that
      And after every cut a scavenge run again leaves the text of the stream deleted for good in no file, nor in the projection after a reopen

      Examples:
        | keeps                                                           |
        | drops every unsynced write                                      |
        | keeps every unsynced write                                      |
        | keeps only half of the last unsynced write                      |
        | writes back a random subset of the dirty pages, 4 subsets per cut |

    Scenario: The scavenging process is killed with SIGKILL right after each segment it puts in place
      Given a new store with:
        | segmentSize | 4 KiB |
      And 6 streams of 20 events, "s-1" deleted for good with its events holding the text "ERASE-ME-4711", "s-3" with maxCount 3 and 5 more events, and a checkpoint taken last
      When for each segment the scavenge rewrites, a copy of the store is scavenged by a child process killed with SIGKILL right after that segment is in place
      Then every copy opens with every kept event exactly as before
      And in every copy a scavenge run again leaves the text "ERASE-ME-4711" in no file

    Scenario: A backup asked for after each segment a scavenge puts in place opens with every event it holds
      Given a new store with:
        | segmentSize | 4 KiB |
      And 6 streams of 20 events, "s-1" deleted for good with its events holding the text "ERASE-ME-4711", "s-3" with maxCount 3 and 5 more events, and a checkpoint taken last
      When the store is scavenged and a backup is asked for after each segment it puts in place
      Then there are as many backups as segments rewritten, at least 4
      And every backup opens with every event it holds, as the store reads them

  @file-only
  Rule: Recovery and the command line understand scavenged segments

    Scenario: eventfold scavenge on a closed store, then verify and info
      Given a new store with:
        | segmentSize | 16 KiB |
      And "sensor-1" has 1000 events
      And the metadata of "sensor-1" is set to maxCount 100
      When the store is closed
      And the operator runs "eventfold scavenge" on the store
      Then the command exits with 0 and says "900 events removed"
      And eventfold verify says the store is healthy
      When the operator runs "eventfold info" on the store
      Then it says "reclaimable:    0 bytes"
      And it says "events:         102"
      And it says "positions:      0 to 1001"

    Scenario: A damaged record in a scavenged segment is still named as corruption
      Given a new store with:
        | segmentSize | 16 KiB |
      And "sensor-1" has 1000 events
      And the metadata of "sensor-1" is set to maxCount 100
      And the store is scavenged
      And the store is closed
      When one bit flips in the kept event of version 950 of "sensor-1"
      And the store is opened again
      Then the open fails with a CorruptionError naming the segment that holds it

    Scenario: A scavenged segment cut back to its header is named as corruption, by verify and by the open
      Given a new store with:
        | segmentSize | 16 KiB |
      And "sensor-1" has 1000 events
      And the metadata of "sensor-1" is set to maxCount 100
      And the store is scavenged
      And the store is closed
      When a scavenged segment that holds kept events of "sensor-1" is cut back to its 32-byte header
      Then eventfold verify says the store is not healthy and names that segment
      When the store is opened again
      Then the open fails with a CorruptionError naming the segment that holds it

    Scenario: A scavenged segment under a snapshot, cut short by its last record, fails the open before any read
      Given a new store with:
        | segmentSize | 16 KiB |
      And "sensor-1" has 1000 events
      And the metadata of "sensor-1" is set to maxCount 100
      And the store is scavenged
      And a checkpoint is taken
      And the store is closed
      When the last record of a scavenged segment that holds kept events of "sensor-1" is cut off
      And the store is opened again
      Then the open fails with a CorruptionError naming the segment that holds it

    Scenario: A read-only open (verify, info, read, backup) that runs while the application scavenges finds the store healthy
      Given a store on a simulated disk with segments of 4 KiB, where "keep" has 200 events between those of a deleted stream
      When the application scavenges it during a read-only open, just before the open reads its first, second, … last segment
      Then every read-only open succeeded and read all 200 events of "keep"

  @file-only
  Rule: A read-only store open during a scavenge goes on reading

    Scenario: A reader that had read part of the log reads every kept event during the scavenge and what the writer reads after a refresh
      Given a new store with:
        | segmentSize | 16 KiB |
      And "sensor-1" has 1000 events
      And "sensor-2" has 50 events
      And "visit-9" has 20 events
      And a read-only store is open beside the writer and has read "sensor-2" and "visit-9"
      And the metadata of "sensor-1" is set to maxCount 100
      And "visit-9" is deleted
      When the store is scavenged while the read-only store reads every event again and again
      Then every read of the read-only store returned every kept event, in order, and nothing it had not seen before
      When "sensor-2" appends 10 events
      Then after a refresh the read-only store reads what the writer reads: every event, and "sensor-1", "sensor-2" and "visit-9" both ways
      And no file the scavenge replaced is still open in this process: its disk space is free already

  Rule: A projection is a fold of history; a scavenge that removed events rebuilds it from the events kept

    Scenario: A projection counts 1,050 events, and 150 once a scavenge removed 900 of them, also after a reopen
      Given a new store with a projection counting events, whose segments roll every 16 KiB on the file log
      And "sensor-1" has 1000 events
      And "sensor-2" has 50 events
      And the metadata of "sensor-1" is set to maxCount 100
      And a checkpoint is taken
      Then the projection has folded 1050 events
      When the store is scavenged
      Then the projection has folded 150 events
      When the store is closed and opened again
      Then the projection has folded 150 events

    @file-only
    Scenario: A checkpoint taken after an erasure holds nothing of the erased stream
      Given a new store with a projection keeping each stream's last text, whose segments roll every 16 KiB
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      And "orders" has 200 events
      And a checkpoint is taken
      When "customer-7" is deleted for good
      And the store is scavenged
      Then the projection holds no text "ERASE-ME-4711"
      When a checkpoint is taken
      Then no file of the store holds the text "ERASE-ME-4711"
      When the store is closed and opened again
      Then the projection holds no text "ERASE-ME-4711"

    @file-only
    Scenario: A checkpoint asked for while a scavenge runs waits for it and holds nothing of the erased stream
      Given a new store with a projection keeping each stream's last text, whose segments roll every 4 KiB
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      And "orders" has 200 events
      And a checkpoint is taken
      When "customer-7" is deleted for good
      And the store is scavenged while a checkpoint is asked for after its first segment
      Then the checkpoint was written after the scavenge ended
      And no file of the store holds the text "ERASE-ME-4711"

    Scenario: 500 appends race a scavenge and the rebuild of a projection, which counts each of them once
      Given a new store with a projection counting events, whose segments roll every 16 KiB on the file log
      And "old" has 2000 events
      And "old" is deleted for good
      When the store is scavenged while 500 appends to "new" are made and "new" is read
      Then all 500 appends were acknowledged and "new" reads back 500 events
      And the projection has folded 500 events
      When the store is closed and opened again
      Then the projection has folded 500 events

@recovery
Feature: Every acknowledged event survives a power loss at any moment
  A power loss drops everything the disk had not made durable. eventfold is
  tested on a simulated disk that remembers which writes were fsynced: when
  the power is cut, unsynced writes are dropped, kept, the last one is torn
  at a byte, or the page cache writes back any subset of the dirty 4 KiB
  pages, in any order; and file creations, renames, removals and new
  directories that were not followed by an fsync of their directory
  disappear.

  The run below appends many small batches from concurrent callers, with
  segments small enough that the log rolls to new files along the way. It
  is repeated once for every fsync the run makes — of a file or of a
  directory — with the power cut exactly there.

  Background:
    Given the store lives on a simulated disk

  Rule: Acknowledged means durable, at every fsync point, whatever the disk kept

    Scenario Outline: The power is cut at every fsync point, and the disk <keeps>
      Given a workload of 40 appends of 1 to 5 events from 4 concurrent callers, with segments of 2 KiB
      When the power is cut at each of its fsync points in turn and the disk <keeps>
      Then after every cut the reopened store holds every acknowledged event
      And after every cut each unacknowledged append is either wholly present or wholly absent
      And after every cut the positions run from 0 without a gap and the store accepts a new append
      And the run had more than 20 fsync points, of files and of directories

      Examples:
        | keeps                                   |
        | drops every unsynced write              |
        | keeps every unsynced write              |
        | keeps only half of the last unsynced write |
        | writes back a random subset of the dirty pages, 4 subsets per cut |

  Rule: Nothing is acknowledged until its batch is fsynced

    Scenario: The power is cut between the write of a batch and its fsync
      Given a new store
      And "meter-1" has 10 events
      When the power is cut during an append of 5 events, at the fsync of its write
      Then that append was not acknowledged
      And the store is opened after the power comes back
      And stream "meter-1" holds exactly 10 events

  Rule: A crash during a segment roll leaves the old layout or the new one

    Scenario Outline: The power is cut at the <step> of a new segment
      Given a new store with:
        | segmentSize | 1 KiB |
      And "meter-1" has 20 events
      When the power is cut during an append of 5 events, at the <step>, and the disk keeps every unsynced write
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 20 events
      And no temporary segment file is left in the log directory
      And "meter-1" can still append 1 event expecting version 19

      Examples:
        | step                                 |
        | fsync of the new segment's header    |
        | rename of the new segment into place |
        | directory fsync of the new segment   |

  Rule: A crash during recovery itself is recovered by the next open

    Scenario: The power is cut while recovery truncates a torn tail
      Given a new store
      And "invoice-3" has 10 events
      When the power fails while a 100-event batch is being written, half of it on the disk
      And the power is cut during the next open, at the truncation of the log
      And the store is opened after the power comes back
      Then stream "invoice-3" holds exactly 10 events

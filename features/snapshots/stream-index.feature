Feature: A reopen from a snapshot knows every stream exactly as the log does
  An open from a snapshot keeps the snapshot's stream names as their UTF-8
  bytes in one buffer and finds a name through a hash table over them
  (src/log/stream-name-table.ts): no string, object or Map entry per stream
  until a stream is asked for. Names are compared byte for byte, so texts
  that look alike in another Unicode normalization are different streams,
  and a name with a lone surrogate (refused by appends) finds nothing, not
  the stream whose name holds U+FFFD. fast-check generates the names: all
  of Unicode, normalization variants, U+FFFD, NUL, names of 256 bytes,
  shared prefixes.

  Rule: The index answers as a plain Map of heads would

    Scenario: Heads set, asked for, changed in place and deleted, across snapshots of the index
      When 300 generated runs of heads set, asked for, changed and deleted on an index seeded from a snapshot agree with a Map
      Then every case held

  Rule: A store answers alike before and after a reopen, whichever way it opens

    Scenario: Appends, deletions, scavenges and reopens, then a snapshot, a read-only reader following the writer, a reopen from the snapshot and one from the log alone
      When 60 generated stores of streams with such names answer alike live, reopened from a snapshot, from the log alone and read-only
      Then every case held

  Rule: Snapshots of earlier versions are still used

    Scenario: A snapshot written as format version 3 (names as strings) opens the store with every stream as it was
      When 40 generated stores with such names are reopened from a snapshot of format version 3, as earlier versions wrote it
      Then every case held

    Scenario: A snapshot of format version 3 that names a stream twice is passed over as damaged, and the log replayed
      When a store of 5 streams is reopened from a snapshot of format version 3 that names one stream twice

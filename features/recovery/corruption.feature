@recovery
Feature: Real corruption is detected, named, and only repaired when asked
  Damage that is not a torn tail means data that was once acknowledged may
  be wrong: a flipped bit in the middle of the log, an impossible length, a
  repeated or missing position, a missing segment file, a header from an
  unknown format. eventfold never skips such a record silently. Opening
  fails with a CorruptionError that names the file, the byte offset, and —
  for a checksum failure — the expected and the actual CRC.

  An operator who accepts the loss opens the store with
  `repair: 'truncate'`: the log is cut at the end of the last complete batch
  before the damage, the cut bytes (and any later segment files) are moved
  into `quarantine/` — nothing is deleted — and the recovery report says how
  many records and bytes were set aside.

  Rule: A damaged record in the middle of the log stops the open and is named

    Scenario: One bit flips in the 10th of 30 records
      Given a store holding 30 events, one per append
      When one bit flips in the body of record 10
      And the store is opened again
      Then the open fails with a CorruptionError naming the segment file and the offset of record 10
      And the error gives the expected and the actual CRC of record 10

    Scenario: A flipped bit in a segment that is not the last
      Given a store on a simulated disk whose segments roll every 4 KiB, holding 200 events
      When one bit flips in the body of the last record of the first segment
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "in a segment that is not the last"

  Rule: An explicit repair quarantines the damage and reports the loss

    Scenario: Repairing the log with a flipped bit in record 10 of 30
      Given a store holding 30 events, one per append
      When one bit flips in the body of record 10
      And the store is opened again with repair "truncate"
      Then the store opens with the first 9 events
      And the recovery report says 20 records and the bytes from record 10 on were quarantined
      And the quarantine file holds exactly the bytes cut from the log
      And 1 more event can be appended at position 9

    Scenario: A repair interrupted by a power cut reaches the same log when run again
      Given a store on a simulated disk holding 30 events, one per append
      When one bit flips in the body of record 10
      And the power is cut during the repair, at the truncation of the log
      And the store is opened again with repair "truncate"
      Then the store opens with the first 9 events

  Rule: A corrupt length field never leads to a huge allocation or a hang

    Scenario: The length of record 5 of 30 claims 2 GiB
      Given a store on a simulated disk holding 30 events, one per append
      When the length field of record 5 is set to 2147483000
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "impossible record length 2147483000"
      And opening allocated less than 16 MiB of buffers

  Rule: Positions must run without gap, repeat or reversal

    Scenario Outline: Record 20 of 30 carries position <written> instead of 19 (<what>)
      Given a store on a simulated disk holding 30 events, one per append
      When record 20 is rewritten with a valid checksum but position <written>
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "record has position <written> where position 19 was expected"

      Examples:
        | what         | written |
        | a repeat     | 18      |
        | a gap        | 20      |
        | out of order | 3       |

  Rule: Missing or foreign files are named, never read around

    Background:
      Given the store lives on a simulated disk

    Scenario: The middle one of 3 segment files is missing
      Given a store whose segments roll every 4 KiB, holding 200 events
      When the second segment file is deleted
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "a segment is missing"

    Scenario: A segment written by an unknown format version 9
      Given a store holding 30 events
      When the format version in the segment header is changed to 9
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "unknown format version 9"

    Scenario: An empty segment file as the whole log is damage, not an empty store
      A segment is renamed into place only after its header is on the disk,
      so a segment file without a whole header was damaged after it was made.

      Given a directory whose only segment file is empty
      When the store is opened again
      Then the open was rejected with a CorruptionError saying "shorter than its 32-byte header"

    Scenario: A segment shorter than its header is damage, not an interrupted roll
      Given a store whose segments roll every 4 KiB, holding 200 events
      When a new segment file with only 11 bytes of its header is left after the last one
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "shorter than its 32-byte header"
      When the store is opened again with repair "truncate"
      Then reading all events returns 200 events with positions 0 to 199
      And the recovery report says the damaged segment was moved to quarantine

    Scenario: A store written in format version 2 is refused with the way to upgrade
      Given a store holding 30 events
      When the format version in the segment header is changed to 2
      And the store is opened again
      Then the open was rejected with an UnsupportedFormatError saying "format version 2; this eventfold reads version 3"
      And the error says how to upgrade: "append them in order to a new, empty store"

  Rule: Bytes that pass their checksums but are not data as eventfold writes it are named when read

    The checksums prove that the bytes are the ones a writer wrote, not
    that the writer was eventfold: a faulty writer or another
    implementation can leave an event whose data does not decode. Reading
    it fails with a CorruptionError naming its record, as for any other
    damage, instead of the decoder's own error.

    Scenario Outline: The data of the first of two events is <what>
      Given a closed store holding the events "first" and "second" in stream "orders"
      When the data of the first event is replaced by <what> of the same length, with its checksums made to match
      Then reading all events, reading them a page at a time and reading stream "orders" each fail with a CorruptionError naming the first event's record and saying its data is not msgpack as eventfold writes it

      Examples:
        | what                                               |
        | a value followed by bytes that belong to no value  |
        | a list cut short                                   |
        | a msgpack extension eventfold never writes         |

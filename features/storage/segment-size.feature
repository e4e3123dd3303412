@storage @file-only
Feature: Segments stay within what a 32-bit offset can address
  Records point at each other by byte offsets inside a segment, stored as
  32-bit numbers. So `segmentSize` is at most 1 GiB, and a batch that would
  end past 4 GiB in a segment starts a new segment instead.

  Rule: A segment size above 1 GiB is refused before anything is written

    Scenario Outline: Opening with segments of <size>
      When a store is opened with segments of <bytes> bytes
      Then the open <outcome>

      Examples:
        | size              | bytes      | outcome                                                 |
        | exactly 1 GiB     | 1073741824 | succeeds                                                |
        | 1 GiB and 1 byte  | 1073741825 | is refused with an InvalidInputError naming "segmentSize" |
        | 8 GiB             | 8589934592 | is refused with an InvalidInputError naming "segmentSize" |

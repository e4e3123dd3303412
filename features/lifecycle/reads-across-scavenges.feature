@file-only
Feature: A read under way goes on through scavenges that replace the files it reads
  A scavenge puts a rewritten file in place of each segment it scavenges;
  two scavenges back to back replace a segment twice. A read that started
  before them — a stream followed forward or backward, from a version, or
  the whole log in order — may be between two of its disk reads, or between
  two pages, when that happens. It goes on in the files that hold the
  events now, and returns every kept event once, in order, exactly as
  stored: never an error because a file it was reading was replaced.

  Background:
    Given a store on a simulated disk with segments of 4 KiB, where "keep" has 300 events between those of "gone-1", "gone-2" and "gone-3", "gone-1" deleted and scavenged before the store was opened again

  Rule: Every read returns every kept event, whichever disk read or page it was held at while two scavenges ran

    Scenario Outline: A read of <what> is held at each of its disk reads in turn, and at every 50th event, while "gone-2" and "gone-3" are deleted and scavenged one after the other
      When a read of <what> is held at each of its disk reads in turn, and at every 50th event it returns, while "gone-2" is deleted and scavenged and then "gone-3" is
      Then every read returned versions <versions> of "keep", each event as stored, and none failed
      And at least 10 reads were held, each while both scavenges rewrote segments

      Examples:
        | what                          | versions   |
        | "keep" forward                | 0 to 299   |
        | "keep" backward               | 299 to 0   |
        | "keep" forward from version 150 | 150 to 299 |
        | the whole log                 | 0 to 299   |

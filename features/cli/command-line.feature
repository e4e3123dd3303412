@cli
Feature: The eventfold command line tells an operator what is in a store
  An operator who finds a data directory can ask, without writing code,
  whether it is healthy and what it holds. `eventfold verify` reads every
  segment and checks every record's CRC and position without changing a
  byte; `info` summarises the store; `read` prints events; `recover` runs
  recovery (and, when asked, the quarantining repair) and prints its report.
  Problems are clear sentences and a non-zero exit.

  Rule: verify says whether a store is healthy, and never modifies it

    Scenario: A healthy store of 30 events passes verification
      Given a store holding 30 events, one per append
      When the operator runs "eventfold verify" on the store
      Then the command exits with 0 and says "is healthy: 30 events in 1 segments"

    Scenario: A flipped bit is named by file and offset, and the store is left as it was
      Given a store holding 30 events, one per append
      When one bit flips in the body of record 10
      And the operator runs "eventfold verify" on the store
      Then the command exits with 2 and says "record fails its checksum, and valid records follow it"
      And the output names the segment file and the offset of record 10
      And the store's files are byte for byte as they were before the command

  Rule: info, read and recover show what is there

    Scenario: info as JSON for machines
      Given a store holding 30 events, one per append
      When the operator runs "eventfold info --json" on the store
      Then the command exits with 0 and prints JSON with 30 events, 7 streams and a clean last shutdown

    Scenario: info lists each subscription with its checkpoint
      Given a new store
      And "ledger" has 5 events
      And subscription "mailer" has handled the first 5 events
      When the store is closed
      And the operator runs "eventfold info" on the store
      Then the command exits with 0 and says "subscriptions:  mailer at position 4"

    Scenario: Reading the first 2 events of one stream
      Given a store holding 30 events, one per append
      When the operator runs "eventfold read --stream stream-1 --limit 2 --json" on the store
      Then the command exits with 0 and prints 2 events of stream "stream-1" with versions 0 and 1

    Scenario: recover with repair quarantines a damaged log and reports it
      Given a store holding 30 events, one per append
      When one bit flips in the body of record 10
      And the operator runs "eventfold recover --repair truncate" on the store
      Then the command exits with 0 and says "quarantine"
      And the store now holds 9 events

  Rule: Problems are one clear sentence and a non-zero exit

    Scenario: A directory that does not exist
      When the operator runs "eventfold verify" on a directory that does not exist
      Then the command exits with 2 and says "No store directory at"

    Scenario: Reading a store another process holds open
      Given a child process that has opened the store and keeps it open
      When the operator runs "eventfold read" on the store
      Then the command exits with 2 and says "StoreLockedError: Store directory"

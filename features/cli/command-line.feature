@cli
Feature: The eventfold command line tells an operator what is in a store
  An operator who finds a data directory can ask, without writing code,
  whether it is healthy and what it holds. `eventfold verify` reads every
  segment and checks every record's CRC and position without changing a
  byte; `info` summarises the store; `read` prints events; `recover` runs
  recovery (and, when asked, the quarantining repair) and prints its report;
  `snapshot` takes a checkpoint. `bench` measures eventfold against SQLite
  on the user's own machine, and `demo` is a one-minute tour with a real
  crash. Long work shows a progress bar when the output is a terminal.
  Problems are clear sentences and a non-zero exit.

  Rule: verify says whether a store is healthy, and never modifies it

    Background:
      Given a store holding 30 events, one per append

    Scenario: A healthy store of 30 events passes verification
      When the operator runs "eventfold verify" on the store
      Then the command exits with 0 and says "is healthy: 30 events in 1 segment and 0 snapshots"

    Scenario: A flipped bit is named by file and offset, and the store is left as it was
      When one bit flips in the body of record 10
      And the operator runs "eventfold verify" on the store
      Then the command exits with 2 and says "record fails its checksum"
      And the output names the segment file and the offset of record 10
      And every file of the store is byte for byte as it was

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
      And the store opened again holds 9 events

  Rule: snapshot takes a checkpoint, and verify checks snapshots too

    Background:
      Given a store holding 30 events, one per append

    Scenario: A snapshot of 30 events is listed by info and used by the next open
      When the operator runs "eventfold snapshot" on the store
      Then the command exits with 0 and says "covers positions 0 to 29"
      When the operator runs "eventfold info" on the store
      Then the command exits with 0 and says "snapshots:      00000000000000000029.snap (position 29)"
      When the store is opened again
      Then the reopen started from the snapshot at position 29 and replayed 0 events

    Scenario: A damaged snapshot makes verify fail, naming the file
      Given the operator has run "eventfold snapshot" on the store
      When a byte in the middle of the snapshot at position 29 is flipped
      And the operator runs "eventfold verify" on the store
      Then the command exits with 2 and says "snapshots/00000000000000000029.snap at byte offset 32: snapshot fails its checksum"

  Rule: demo and bench run as a user would run them

    Scenario: The demo crashes a writer for real and finds every acknowledged event after recovery
      When the operator runs "eventfold demo" on the store
      Then the command exits with 0 and says "every acknowledged event is there: yes"
      And it says "last shutdown clean: no"
      And it says "covers positions 0 to"

    @slow
    Scenario: A small benchmark against SQLite writes its figures and ratios, making the folder it is told to write them to
      When the operator runs "eventfold bench --events 20000 --reopen-events 40000 --out" into a folder that does not exist yet
      Then the command exits with 0 and says "batched durable appends (1000 events per append)"
      And bench.json holds the ratios batchedAppendVsSqlite and replayVsSqlite, and bench.md the table

  Rule: Problems are one clear sentence and a non-zero exit

    Scenario: A directory that does not exist
      When the operator runs "eventfold verify" on a directory that does not exist
      Then the command exits with 2 and says "No store directory at"

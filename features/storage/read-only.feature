@read-only @file-only
Feature: Reading a store without owning it
  A store opened with `{ readOnly: true }` takes no lock, so it opens while
  another process owns the store, and on a crashed store that nobody has
  recovered yet. It writes nothing at all — no marker, no cut, no cleanup —
  and sees every complete, committed append it found when it read the log: a
  torn or in-progress append is simply not there yet. `refresh()` and
  `follow()` take in what the writer appended since. Appends, checkpoints and
  subscriptions (which keep checkpoints) are refused with a
  ReadOnlyStoreError, and closing a reader never touches the writer's lock.

  Rule: It reads alongside a running writer

    Scenario: A second process follows the writer's appends as they are acknowledged
      Given a writer process that appends to the store and reports each acknowledged append
      When this process opens the store read-only and follows it until it has seen 400 events
      Then it saw positions from 0 without a gap, and each event the writer acknowledged at its position

    Scenario: A reader on the same disk sees new appends after a refresh
      Given a new store on a simulated disk
      And "ledger" has 10 events
      When a read-only store is opened on the same directory
      And "ledger" appends 5 events
      Then the read-only store still sees 10 events
      And after a refresh it sees 15 events, the same ones the writer reads

    Scenario: A reader follows the writer into a new segment
      Given a new store on a simulated disk with:
        | segmentSize | 1 KiB |
      And "ledger" has 40 events
      When a read-only store is opened on the same directory
      And "ledger" appends 60 events
      And "ledger" appends 20 events
      Then the read-only store still sees 40 events
      And after a refresh it sees 120 events, the same ones the writer reads
      And the log it followed has 3 segments

  Rule: It changes nothing, also on a crashed store

    Scenario: A crashed store with a torn last append is read and left as it was
      Given a writer process that appends to the store and reports each acknowledged append
      And the writer was killed with SIGKILL after 200 acknowledged appends
      And the last append in the log was torn halfway
      When this process opens the store read-only, reads every event and closes it
      Then it saw every acknowledged event and nothing of the torn append
      And every file of the store is byte for byte as it was
      And the next writer's open still finds the crash: a torn tail and an unclean shutdown

    Scenario: A folder that is not a store
      Given an empty folder
      When this process opens the folder read-only
      Then the open was rejected with a StoreNotFoundError
      And the folder is still empty

  Rule: Writes are refused, and the writer's lock is left alone

    Scenario: Appending, checkpointing and subscribing on a reader of another process's store
      Given a child process that has opened the store and keeps it open
      When this process opens the store read-only
      Then an append, a checkpoint and a subscription are each refused with a ReadOnlyStoreError
      When the read-only store is closed
      And this process opens the same store
      Then the open was rejected with a StoreLockedError naming the child process

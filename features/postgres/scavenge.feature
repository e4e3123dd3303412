@postgres
Feature: Scavenge on PostgreSQL
  On PostgreSQL `store.scavenge()` (or `eventfold scavenge <postgres://…>`)
  deletes the rows of the events that retention and deletion removed, a
  batch of 1,000 rows per statement, and then VACUUMs the events table: the
  space of those rows is reused by the table's next rows. `erase: true`
  rewrites the table instead (VACUUM FULL): its files shrink and no longer
  hold the removed events' bytes, while appends and reads wait. Every other
  row stays exactly as it was; positions and versions are never reused, and
  other processes keep appending, reading and subscribing meanwhile. As on
  the file log, a stream's last event stays stored (hidden) unless the
  stream was deleted for good.

  Background:
    Given a new store

  Rule: The rows of removed events leave the table; every kept row stays exactly as it was

    Scenario: 10 streams of 2,000 events of 1 KB, 9 of them deleted: the table keeps the tenth's 2,000 rows and each deleted stream's last
      Given 10 streams of 2000 events of 1 KB each
      And 9 of those streams are deleted
      When the store is scavenged
      Then the scavenge removed 17991 events
      And the events table holds 2009 rows of the application's events
      And the log takes between 9% and 12% of its bytes before
      And every kept event reads back exactly as before, at the same position
      And the next append takes the position after the last one
      When the store is closed and opened again
      Then every kept event reads back exactly as before, at the same position

    Scenario: A plain scavenge leaves the space to the table: 18,000 new rows fit in the space of the 18,000 deleted
      Given 10 streams of 2000 events of 1 KB each
      And 9 of those streams are deleted
      When the store is scavenged
      Then the events table's heap takes at least 90% of its size before
      When 9 more streams of 2000 events of 1 KB each are appended
      Then the events table's heap grew by less than 10% since before the scavenge

    Scenario: An erasing scavenge gives the space back to the operating system
      Given 10 streams of 2000 events of 1 KB each
      And 9 of those streams are deleted
      When the store is scavenged with erase
      Then the events table with its indexes takes between 8% and 16% of its size before
      And every kept event reads back exactly as before, at the same position

  Rule: After a hard delete, an erasing scavenge leaves the deleted bytes in no file of the events table

    Scenario: An erasure request: a plain scavenge deletes the rows, an erasing one the bytes too
      Given "orders" has 200 events
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      When "customer-7" is deleted for good
      And the store is scavenged
      Then no row of the events table holds the text "ERASE-ME-4711"
      But the files of the events table still hold the text "ERASE-ME-4711"
      When the store is scavenged with erase
      Then no file of the events table, its TOAST table or their indexes holds the text "ERASE-ME-4711"
      And reading "orders" forward returns 200 events, versions 0 to 199

    Scenario: An erasing scavenge asked for while a plain one runs runs after it, and erases
      Given "orders" has 200 events
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      When "customer-7" is deleted for good
      And a plain scavenge and an erasing one are asked for at once
      Then no file of the events table, its TOAST table or their indexes holds the text "ERASE-ME-4711"

  Rule: An erasure leaves the deleted events in none of the server's statistics, and is never reported done while a session could still see them

    Scenario: The server sampled the events before the hard delete: no statistic of the events table holds them after the erasing scavenge
      Given "orders" has 200 events
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      And the server has analyzed the events table, as autovacuum does after that many new rows
      When "customer-7" is deleted for good
      And the store is scavenged with erase
      Then no statistic of the events table holds the text "ERASE-ME-4711"
      And no row of the server's statistics catalog holds the text "ERASE-ME-4711"

    Scenario: A schema of version 1 whose payload columns have statistics is migrated to version 3 on open, and the statistics go
      Given "customer-7" has 300 events holding the text "ERASE-ME-4711"
      And the store is closed
      And the schema is made a version 1 schema whose payload statistics the server has sampled
      When the store is opened
      Then the schema's version row still says 3
      And no statistic of the events table holds the text "ERASE-ME-4711"

    Scenario: A report holds a snapshot older than the deletions: the erasing scavenge fails saying why, and succeeds once the report ends
      Given "orders" has 200 events
      And "customer-7" has 30 events holding the text "ERASE-ME-4711"
      And another session of the database reads in a REPEATABLE READ transaction it keeps open
      When "customer-7" is deleted for good
      And the store is scavenged with erase while that session stays open
      Then the scavenge failed with an ErasureIncompleteError naming that session
      And no row of the events table holds the text "ERASE-ME-4711"
      When the other session ends its transaction
      And the store is scavenged with erase
      Then no file of the events table, its TOAST table or their indexes holds the text "ERASE-ME-4711"

  Rule: Other processes go on appending, reading and subscribing

    Scenario: A scavenge in this process, 300 appends in a second and a subscription in a third
      Given "old" has 3000 events
      And "kept" has 100 events
      And "old" is deleted
      And a subscriber process "audit" that checkpoints every 50 events
      When a writer process appends 300 events to "new" while this process scavenges the store
      Then the scavenge removed 2999 events
      And the 300 appends the writer saw acknowledged read back at the positions and versions they were acknowledged with
      And the subscriber "audit" received every kept event's position exactly once, in order: 100 of "kept" and 300 of "new"

    Scenario: A process that slept through a scavenge appends after it: versions go on, never reused
      Given "kept" has 10 events
      And a second process has the store open and is stopped with SIGSTOP
      And "old" has 3000 events
      And "old" is deleted
      And the store is scavenged
      When the second process is continued and appends 1 event to "old"
      Then its append was written at version 3000
      And the second process reads all events: 10 of "kept" and 1 of "old"

  Rule: A scavenge stopped midway leaves a consistent store, and a rerun finishes it

    Scenario: A scavenge killed with SIGKILL after its first batch of 1,000 rows
      Given "old" has 5000 events
      And "kept" has 100 events
      And "old" is deleted
      When a child process scavenges the store and is killed with SIGKILL after its first batch
      Then the events table holds 4000 rows of "old"
      And every kept event reads back exactly as before, at the same position
      When the store is scavenged
      Then the scavenge removed 3999 events
      And the events table holds 1 row of "old"
      And every kept event reads back exactly as before, at the same position

    Scenario: A scavenge killed after its last batch leaves no snapshot of the deleted events
      Given "orders" has 50 events
      And "customer-7" has 10 events holding the text "ERASE-ME-4711"
      And a checkpoint is taken
      And "customer-7" is deleted for good
      When a child process scavenges the store and is killed with SIGKILL after its first batch
      Then the events table holds 0 rows of "customer-7"
      And the snapshots table holds 0 rows

    Scenario: The server ends the store's sessions after the scavenge's first batch, and the scavenge still finishes
      Given "old" has 5000 events
      And "kept" has 100 events
      And "old" is deleted
      When the store is scavenged while the server ends every session of the store after its first batch
      Then the scavenge removed 4999 events
      And the events table holds 1 row of "old"
      And every kept event reads back exactly as before, at the same position

    Scenario: A store closed while it scavenges lets the scavenge stop after its batch, rejects it, and the next scavenge finishes
      Given "old" has 5000 events
      And "old" is deleted
      When the store is closed as soon as its scavenge has deleted its first batch
      Then the scavenge was rejected with a StoreClosedError saying "1000 events removed"
      And the events table holds 4000 rows of "old"
      When the store is closed and opened again
      And the store is scavenged
      Then the scavenge removed 3999 events
      And the events table holds 1 row of "old"

  Rule: A batch is judged by the retention in force when it is deleted

    Scenario: A retention loosened while a scavenge in another process waits between batches: the events it brought back stay
      Given "sensor" has 3000 events
      And the metadata of "sensor" is set to maxCount 1
      When a child process scavenges the store and waits after its first batch
      And the metadata of "sensor" is set to {}
      Then reading "sensor" forward returns 2000 events, versions 1000 to 2999
      When the child process goes on scavenging and finishes
      Then reading "sensor" forward returns 2000 events, versions 1000 to 2999
      And the events table holds 2000 rows of "sensor"

  Rule: maxAge is judged by the server's clock, which every instance shares

    Scenario: A scavenge on a machine whose clock runs 2 hours ahead deletes none of the events that are 1 second old
      Given "sessions" has 100 events
      And the metadata of "sessions" is set to maxAge 3600000 ms
      When a child process whose clock runs 2 hours ahead scavenges the store
      Then the events table holds 100 rows of "sessions"
      And reading "sessions" forward returns 100 events, versions 0 to 99

  Rule: The command line scavenges a PostgreSQL store while it is in use

    Scenario: eventfold scavenge with a postgres:// URL, while the store stays open
      Given "sensor-1" has 1000 events
      And the metadata of "sensor-1" is set to maxCount 100
      When the operator runs "eventfold scavenge" on the database
      Then the command exits with 0 and says "900 events removed"
      And the events table holds 100 rows of "sensor-1"
      And reading "sensor-1" forward returns 100 events, versions 900 to 999

  Rule: Every process with the store open lets go of what a scavenge removed: its projections are rebuilt when the scavenge ends, and no snapshot keeps it

    Scenario: A second process with a projection while a third scavenges a stream deleted for good: its count drops without a reopen, and none of its snapshots holds the stream's text
      Given "orders" has 50 events
      And "customer-7" has 1500 events holding the text "ERASE-ME-4711"
      And a second process keeps a projection of the events' notes, counting those holding "ERASE-ME-4711", with a snapshot every 10 events
      And "customer-7" is deleted for good
      And the second process's projection counts 1550 events, 1500 of their notes holding the text
      When a child process scavenges the store and waits after its first batch
      And the second process appends 30 events to "orders"
      Then no snapshot row holds the text "ERASE-ME-4711 lives at number 0"
      When the child process goes on scavenging and finishes
      Then the second process's projection comes to 80 events, 0 of their notes holding the text, without a reopen
      When the second process appends 30 events to "orders"
      And the second process takes a checkpoint
      Then the snapshots table holds the second process's checkpoint
      And no snapshot row holds the text "ERASE-ME-4711"
      When the second process closes its store
      And a checkpoint is taken

    Scenario: The scavenger is killed midway: no snapshot keeps what it deleted, and the rerun's end rebuilds the second process's projection
      Given "orders" has 50 events
      And "customer-7" has 1500 events holding the text "ERASE-ME-4711"
      And a second process keeps a projection of the events' notes, counting those holding "ERASE-ME-4711", with a snapshot every 10 events
      And "customer-7" is deleted for good
      When a child process scavenges the store and is killed with SIGKILL after its first batch
      And the second process appends 30 events to "orders"
      And the store is scavenged
      Then the second process's projection comes to 80 events, 0 of their notes holding the text, without a reopen
      When the second process takes a checkpoint
      Then the snapshots table holds the second process's checkpoint
      And no snapshot row holds the text "ERASE-ME-4711"

    Scenario: Two processes scavenge at once while a third counts in a projection: each row is deleted and counted once, and the third counts what is kept
      Given "orders" has 50 events
      And "customer-7" has 3000 events holding the text "ERASE-ME-4711"
      And a second process keeps a projection of the events' notes, counting those holding "ERASE-ME-4711", with a snapshot every 10 events
      And "customer-7" is deleted for good
      When two child processes scavenge the store at once, while the second process appends 100 events to "orders"
      Then the two scavenges removed 3000 events between them
      And the events table holds 0 rows of "customer-7"
      And the events table misses 0 rows that no scavenge deleted
      And the second process's projection comes to 150 events, 0 of their notes holding the text, without a reopen
      When the second process takes a checkpoint
      Then the snapshots table holds the second process's checkpoint
      And no snapshot row holds the text "ERASE-ME-4711"

    Scenario: A scavenge fails after its first batch (its progress callback throws): its process rebuilds its projection before it hears of the failure, and no snapshot holds what the batch deleted
      Given "orders" has 50 events
      And "customer-7" has 1500 events holding the text "ERASE-ME-4711"
      And a second process keeps a projection of the events' notes, counting those holding "ERASE-ME-4711", with a snapshot every 10 events
      And "customer-7" is deleted for good
      When the second process scavenges the store and its progress callback throws "progress bar crashed" after the first batch
      Then the second process's projection counts 550 events, 500 of their notes holding the text
      When the second process takes a checkpoint
      Then the snapshots table holds the second process's checkpoint
      And no snapshot row holds the text "ERASE-ME-4711 lives at number 0"
      When the store is scavenged
      Then the second process's projection comes to 50 events, 0 of their notes holding the text, without a reopen
      When the second process takes a checkpoint
      Then the snapshots table holds the second process's checkpoint
      And no snapshot row holds the text "ERASE-ME-4711"
      When the second process closes its store

  Rule: A scavenge erases the stream metadata nothing reads any more; the deletion stays and refuses appends

    Scenario: The erased stream's metadata goes too, replaced values included; other streams keep only their current metadata
      Given the metadata of "customer-7" is set to custom {"email":"ERASE-ME-4711@example.com"}
      And the metadata of "customer-7" is set to custom {"email":"ERASE-ME-4712@example.com"}
      And "customer-7" has 5 events
      And the metadata of "orders" is set to custom {"owner":"OLD-OWNER-1"}
      And the metadata of "orders" is set to custom {"owner":"OWNER-2"} and maxCount 100
      And "orders" has 200 events
      When "customer-7" is deleted for good
      And the store is scavenged with erase
      Then the scavenge erased 3 metadata records
      And no row of the events table holds the text "ERASE-ME-4711"
      And no file of the events table, its TOAST table or their indexes holds the text "ERASE-ME-4711"
      And no file of the events table, its TOAST table or their indexes holds the text "ERASE-ME-4712"
      And no file of the events table, its TOAST table or their indexes holds the text "OLD-OWNER-1"
      When the store is closed and opened again
      Then the metadata of "orders" says custom {"owner":"OWNER-2"} and maxCount 100
      And reading "orders" forward returns 100 events, versions 100 to 199
      When an append to "customer-7" is tried
      Then the last append was rejected with a StreamDeletedError

  Rule: The open counts the events stored, and a scavenge removes the records of earlier scavenges

    Scenario: After a scavenge removed 2,999 of 3,000 events the open reports the 104 rows stored, not the 3,103 positions taken
      Given "old" has 3000 events
      And "kept" has 100 events
      And "old" is deleted
      When the store is scavenged
      And the store is closed and opened again
      Then the open reports 104 events recovered, the last at position 3102, as many as the events table holds

    Scenario: Three scavenges leave the records of the last one only, and a process that slept through them reads past the holes
      Given "kept" has 10 events
      And a second process has the store open and is stopped with SIGSTOP
      And "old" has 3000 events
      And "old" is deleted
      When the store is scavenged
      And the store is scavenged
      And the store is scavenged
      Then the events table holds 1 row of type "$scavenge" and 1 row of type "$scavenged"
      And reading "kept" forward returns 10 events, versions 0 to 9
      When the second process is continued and appends 1 event to "old"
      Then its append was written at version 3000
      And the second process reads all events: 10 of "kept" and 1 of "old"

  Rule: Below the newest scavenge record a missing row is trusted to be a scavenge's: the removals count tells a lost one

    Scenario: A row lost below the newest scavenge record is skipped by readers, and the count of removed rows shows it
      Below its newest scavenge record a reader cannot tell a row a scavenge
      deleted from one the server lost: there eventfold relies on
      PostgreSQL's own durability. Every row a scavenge deletes is counted in
      the transaction that deletes it, so one query compares the positions
      taken with the rows stored and the rows removed.
      Given "old" has 3000 events
      And "kept" has 10 events
      And "old" is deleted
      And the store is scavenged
      Then the events table misses 0 rows that no scavenge deleted
      When the row of "kept" at version 4 is lost from the events table
      Then reading all events returns 9 events
      And the events table misses 1 row that no scavenge deleted

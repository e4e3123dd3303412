@backup
Feature: Online backup of a live store
  `store.backup(dest)` and `eventfold backup <dir> <dest>` copy a store while
  it keeps working: every event that was durable when the backup started, the
  newest snapshot up to there and the subscription checkpoints. The copy is a
  store of its own, closed cleanly at the backup's position: it opens as any
  store does and takes appends. The command line backs up read-only, so it
  works while the application owns the store. `dest` must not exist yet; the
  copy is built beside it, every file and directory fsynced, and renamed into
  place only then — `dest` never holds half a backup.

  Rule: A backup taken during appends holds exactly the events up to its position

    Scenario: Backing up in the application while 4 callers keep appending
      Given a new store of 300 events with a snapshot and a subscription "mailer" that has handled 250 of them
      When 4 callers keep appending while the store is backed up
      Then every event acknowledged before the backup started is in the backup
      And the backup holds every event up to its position exactly as the store does — positions, versions, ids, timestamps, data and metadata — and nothing after it
      And the backup holds the store's snapshot and the checkpoint of "mailer" at position 249
      And the backup opens as a store that was closed cleanly, starts from that snapshot and takes a new append at the next position

    Scenario: eventfold backup while another process owns the store and appends
      Given a writer process that appends to the store and reports each acknowledged append
      When the writer has acknowledged 100 appends
      And the operator runs "eventfold backup" into a new directory
      Then the command exits with 0 and says "backed up positions 0 to"
      And the writer goes on appending past the backup's position
      When the writer is killed with SIGKILL
      Then every event acknowledged before the backup started is in the backup
      And the backup holds every event up to its position exactly as the store does — positions, versions, ids, timestamps, data and metadata — and nothing after it

  Rule: The destination must be new

    Scenario: A destination that already exists is refused and left alone
      Given a store of 5 events that was closed
      And a folder with one file in it already exists where the backup should go
      When the operator runs "eventfold backup" into that folder
      Then the command exits with 2 and says "already exists"
      And that folder still holds just its one file

@postgres
Feature: An open store survives what happens to its connections
  A store keeps connections to the server. When a connection is lost while
  an append is being committed, the append's outcome is not guessed: the
  store ends the old server session, waits until it is gone (its
  transaction can no longer commit), and looks for the append in the log.
  Found: it is acknowledged. Not found: it is written once more on a new
  connection. Only when the server cannot be reached to find out does the
  append reject, with a StorageError saying its outcome is unknown.

  Background:
    Given a store on PostgreSQL whose log holds 3 events

  Rule: An append whose session ended before its commit is found not written, and written once on a new connection

    Scenario: The server ends the append's session while it waits for the position counter
      Given another session's append transaction has taken position 3 and is held open before its commit
      When the store appends 1 event to "late" while that transaction is still open
      And that append waits for the position counter
      And the server ends the session of that append
      And the held transaction commits
      Then the store's append is acknowledged at position 4, written once

  Rule: The store carries on after the server restarts

    Scenario: The server restarts under an open store
      Given subscription "mailer" of the store has handled positions 0 to 2
      When the PostgreSQL server restarts
      And "after-restart" appends 2 events
      Then the append returns position 4 and version 1
      And subscription "mailer" has handled positions 0 to 4 in order

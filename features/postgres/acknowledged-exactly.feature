@postgres
Feature: What a store on PostgreSQL acknowledges is exactly what the database holds
  Several processes share one database. Whatever one of them knows or
  misses at a given moment — another process's append it has not heard of
  yet, a connection lost while its commit was on the way — an append it
  acknowledges is in the database at the position and version it said,
  once; a snapshot it stores holds exactly the events up to its position;
  a subscription resumes from the checkpoint another process stored.

  Rule: A snapshot records the position of the last event it holds

    Scenario: A snapshot taken after 5 of the store's own deposits holds 5 deposits at position 4
      Given a new store with a "balances" projection that sums deposits per account
      And a second store on the database that takes a snapshot every 5 events
      When the second store makes 5 deposits of 1 to "account-1", one at a time
      And the second store has stored its snapshot
      Then the stored snapshot is at position 4
      And a new instance starts from it, folds 0 events and says "account-1" holds 5

    Scenario: A snapshot taken after learning of another process's 5 deposits holds them at position 4
      Given a new store with a "balances" projection that sums deposits per account
      And a second store on the database that takes a snapshot every 5 events
      When "account-1" has made 5 deposits of 1
      And the second store refreshes
      And the second store has stored its snapshot
      Then the stored snapshot is at position 4
      And a new instance starts from it, folds 0 events and says "account-1" holds 5

  Rule: A retry of an append with ids is recognised in the database, whichever process wrote the first attempt

    Scenario Outline: A retry expecting <expected> is recognised although this store has not heard of the first attempt
      Given a store on an empty PostgreSQL database
      And another process appended "OrderPlaced" with id "cmd-42" to "orders" at position 0, a notification this store has not received
      When the store appends "OrderPlaced" with id "cmd-42" to "orders" expecting <expected>
      Then that append resolves with position 0 and version 0
      And "orders" holds "cmd-42" once

      Examples:
        | expected      |
        | any           |
        | stream_exists |

  Rule: A commit whose connection was lost is acknowledged only when that very transaction committed

    Scenario: Another process wrote the same event id where the lost group would have gone
      Given a store on an empty PostgreSQL database
      And a store "X" whose connection to the server passes through a link that can be cut
      And another session holds the position counter in an open transaction
      And "X" appends 1 event to "warmup", which waits for the position counter
      And "X" appends "OrderPlaced" with id "cmd-1" to "orders" expecting any, and a payment to "payments" expecting no stream
      And the link of "X" holds back the second commit it carries
      When the held transaction commits
      And the link holds back the commit of "X"'s group of "orders" and "payments"
      And the link ends "X"'s session on the server without telling "X"
      And the store appends "OrderPlaced" with id "cmd-1" to "orders" expecting any
      And the link is cut on the side of "X"
      Then that append resolves with position 1 and version 0
      And every append "X" saw acknowledged is in the database at its position and version
      And "orders" holds "cmd-1" once
      And "payments" holds 1 event at version 0

  Rule: A hard delete that was not written deletes nothing

    Scenario: A hard delete whose session ended before its commit is written once on a new connection
      Given a store on an empty PostgreSQL database
      And "ledger" has 1 event
      And another session locks the streams table
      When the store deletes "ledger" for good
      And the server ends the session of that deletion while it waits for the streams table
      And the other session releases the streams table
      Then the deletion resolves
      And the database holds 1 deletion of "ledger"

    Scenario: A hard delete lost twice is refused and appends to its stream are taken again
      Given a store on an empty PostgreSQL database
      And "ledger" has 1 event
      And another session locks the streams table
      When the store deletes "ledger" for good
      And the server ends the session of that deletion while it waits for the streams table
      And the server ends the session of that deletion while it waits for the streams table
      And the other session releases the streams table
      Then the deletion is rejected with a StorageError
      And the database holds 0 deletions of "ledger"
      And the store appends 1 event to "ledger" at version 1

  Rule: A subscription resumes from its stored checkpoint even in a process that has not heard of the events before it

    Scenario: The checkpoint another process stored is inside the log, not past its end
      Given a store on an empty PostgreSQL database
      And "ledger" has 3 events
      And another process appended 10 events to "elsewhere", a notification this store has not received
      And subscription "mailer" stored its checkpoint at position 12 in another process
      When the store subscribes "mailer"
      And the store appends 1 event to "ledger"
      Then subscription "mailer" was not reset and handled only position 13

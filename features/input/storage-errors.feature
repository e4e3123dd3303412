Feature: Every failure a caller sees is a typed error that keeps its cause
  Every error a public method rejects with is an instance of an exported
  EventfoldError subclass, so applications can branch on `instanceof`
  instead of parsing messages. When the disk fails while the store opens,
  reads, closes or backs up, the error is a StorageError: its message says
  what was being done, its `code` is the disk's (ENOSPC, EIO…) and its
  `cause` is the file system's own error. A failed write or fsync of an
  append, a scavenge, a snapshot or a subscription's checkpoint fail-stops
  the store with a StoreFailedError instead, whose `cause` is the file
  system's error too (see "A failed write or fsync stops the store").

  Background:
    Given a new store on a simulated disk
    And "acct" has 3 events

  Rule: Disk errors outside appends are StorageErrors with the disk's error as cause

    Scenario Outline: <code> on the next <step> while <operation>
      When the disk fails the next <step> with <code> while <operation>
      Then that failed with a StorageError saying "<message>" whose cause has the code <code>
      And once the disk is healthy the store opens and holds 3 events

      Examples:
        | operation         | step                                 | code   | message                                     |
        | opening the store | open of the lock file                | ENOSPC | Could not lock the store in /store          |
        | opening the store | open of a segment                    | EIO    | Could not open the store in /store          |
        | closing the store | rename of the clean-shutdown marker  | EIO    | Could not close the store in /store cleanly |
        | reading every event after a reopen | open of a segment   | EIO    | Could not read the log                      |
        | backing up to /copy | fsync of a copied file             | EIO    | Could not back up to /copy                  |

  Rule: A failed write or fsync of a snapshot or of a subscription's checkpoint stops the store, the disk's error as cause

    Scenario Outline: <code> on the next <step> while taking a checkpoint
      When the disk fails the next <step> with <code> while taking a checkpoint
      Then that failed with a StoreFailedError saying "<message>" whose cause has the code <code>
      And once the disk is healthy the store opens and holds 3 events

      Examples:
        | step            | code   | message                                                |
        | snapshot fsync  | EIO    | The store stopped after a failed disk call of a snapshot write |
        | snapshot rename | ENOSPC | The store stopped after a failed disk call of a snapshot write |

    Scenario: A subscription whose checkpoint cannot be stored says so, not that its handler threw
      Given a subscription "mailer" that stores its checkpoint after every event
      When the disk fails the next rename with ENOSPC while the subscription handles 2 more events
      Then the subscription stopped with a StoreFailedError saying "of the checkpoint write of subscription \"mailer\"" whose cause has the code ENOSPC
      And its error does not say that its handler threw

  Rule: A caller's own function that throws comes back typed, its error as cause

    Scenario: aggregateStream whose evolve throws names the stream and the version
      When "acct" is aggregated with an evolve that throws "no negative balances" at version 1
      Then that failed with an AggregateStreamError saying "aggregateStream(\"acct\") failed at version 1: no negative balances"

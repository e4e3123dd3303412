@postgres
Feature: Several processes share one store on PostgreSQL
  Instances of an application on several machines open the same database:
  each appends with expected versions, each sees the others' events in one
  global order, and a subscription in any of them receives every event.

  Background:
    Given an empty PostgreSQL database

  Rule: Processes opening an empty database at the same moment all succeed

    Scenario: 4 processes open an empty database at the same moment
      When 4 processes open it as a store at the same moment
      Then each of the 4 processes opened the empty store
      And the database holds eventfold's schema at version 3, created once

  Rule: Four writers, one killed inside its transaction, and a subscriber in a fifth process

    Scenario: Every acknowledged append reaches the subscriber exactly once, in global order
      Given a subscriber process "audit" that checkpoints every 50 events
      When 4 writer processes append to the streams "seat-1", "seat-2" and "seat-3" with expected versions, 150 appends each
      And writer 4 is killed with SIGKILL while its append transaction waits for the position counter
      And the other 3 writers finish
      Then every append a writer saw acknowledged is in the log once, at the position and version it was acknowledged with, and nothing else is
      And the log's positions are 0 to its end without a gap, and every stream's versions count from 0 without a gap
      And the subscriber "audit" received every position of the log exactly once, in order
      And a reader in this process that polled all events from its last position + 1 all along saw every position of the log once, in order

  Rule: A subscriber killed with SIGKILL resumes from its checkpoint in another process

    Scenario: A consumer of 300 events, checkpointing every 50, is killed with SIGKILL after 120 and resumed by another process
      Given a store holding 300 events for a consumer
      When a child process consumes them as "report-job", checkpointing every 50, and is killed with SIGKILL after 120
      And subscription "report-job" resumes from its checkpoint in this process
      Then it resumes no later than the first event the child did not finish
      And it redoes at most 50 events the child had already handled
      And it then handles every event up to position 299 in order

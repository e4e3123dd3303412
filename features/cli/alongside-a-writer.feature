@cli
Feature: The command line looks without touching, and says when a store is in use
  `eventfold read`, `info`, `verify` and `backup` open a store read-only:
  they work while the application has the store open, and on a crashed store
  that nobody has recovered yet, and they never change a byte — a crash's
  evidence stays for the application's own next open. `read --json` prints
  one JSON object per line; `read --follow` keeps printing new events as the
  writer appends them, until it is interrupted. `info` asks the lock itself
  whether the store is open now, and names the owner's pid. `recover` and
  `snapshot` change the store, so they need it to themselves and say so
  plainly when it is in use. No command turns a folder into a store.

  Rule: Reading and inspecting alongside a running writer

    Scenario: read --follow prints the writer's events as they are acknowledged
      Given a writer process that appends to the store and reports each acknowledged append
      When the operator runs "eventfold read --follow --json" until it has printed 400 events
      Then each line is one JSON object with position, stream, version, type, data, metadata, id and timestamp
      And the lines run from position 0 without a gap, with each event the writer acknowledged at its position

    Scenario: info names the process that has the store open
      Given a writer process that appends to the store and reports each acknowledged append
      When the operator runs "eventfold info" on the store
      Then the command exits with 0 and says the store is open by the writer's pid
      When the writer is killed with SIGKILL
      And the operator runs "eventfold info" on the store
      Then the command exits with 0 and says "open now:       no"
      And it says "last shutdown:  not clean"

    Scenario Outline: <command> needs the store to itself
      Given a child process that has opened the store and keeps it open
      When the operator runs "<command>" on the store
      Then the command exits with 2 and says "needs the store to itself, but process"
      And every file of the store is byte for byte as it was

      Examples:
        | command            |
        | eventfold recover  |
        | eventfold snapshot |

  Rule: On a crashed store, looking changes nothing

    Scenario: read, info and verify on a crashed store whose last append was torn
      Given a writer process that appends to the store and reports each acknowledged append
      And the writer was killed with SIGKILL after 200 acknowledged appends
      And the last append in the log was torn halfway
      When the operator runs "eventfold read --json", "eventfold info" and "eventfold verify" on the store
      Then all three exit with 0
      And read printed every acknowledged event and nothing of the torn append
      And info says "last shutdown:  not clean" and verify says "bytes of torn tail"
      And every file of the store is byte for byte as it was

  Rule: No command turns a folder into a store

    Scenario Outline: <command> on a folder that is not a store
      Given an empty folder
      When the operator runs "<command>" on the store
      Then the command exits with 2 and says "is not an eventfold store"
      And the folder is still empty

      Examples:
        | command            |
        | eventfold read     |
        | eventfold info     |
        | eventfold verify   |
        | eventfold recover  |
        | eventfold snapshot |

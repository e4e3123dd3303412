@cli
Feature: Every problem on the command line is one sentence and exit code 2
  Whatever goes wrong — a mistyped command or option, a path that is not a
  store, a locked or corrupt store, a failing disk — `eventfold` prints one
  sentence on stderr and exits with code 2; it exits 0 only when the command
  did its work (and for --help and --version). A corrupt store's message
  ends with the command that repairs it.

  Rule: Usage mistakes and wrong paths are one sentence and exit 2

    Scenario Outline: <command> on <target>
      Given a store holding 3 events, one per append
      When the operator runs "<command>" on <target>
      Then the command exits with 2 and says "<sentence>"
      And stderr is exactly one line

      Examples:
        | command                        | target                            | sentence                                         |
        | eventfold verify               | a file instead of a directory     | is a file, not a store directory                 |
        | eventfold read                 | a directory that is not a store   | is not an eventfold store: it has no log/ directory |
        | eventfold info                 | a directory that does not exist   | No store directory at                            |
        | eventfold verify --bogus       | the store                         | error: unknown option '--bogus'                  |
        | eventfold frobnicate           | the store                         | error: unknown command 'frobnicate'              |
        | eventfold read --from x        | the store                         | argument 'x' is invalid                          |
        | eventfold recover --repair yes | the store                         | --repair takes 'truncate', not 'yes'             |
        | eventfold bench --events 1000 --reopen-events 1000 --out | a file instead of a directory | cannot write the benchmark report to |

  Rule: A corrupt store's message names the repair command

    Scenario Outline: "<command>" on a store with a flipped bit
      Given a store holding 30 events, one per append
      When one bit flips in the body of record 10
      And the operator runs "<command>" on the store
      Then the command exits with 2 and says "--repair truncate"
      And the command exits with 2 and says "run: eventfold recover"

      Examples:
        | command           |
        | eventfold read    |
        | eventfold verify  |
        | eventfold info    |

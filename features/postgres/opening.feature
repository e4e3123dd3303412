@postgres
Feature: Opening a store on PostgreSQL
  `EventStore.open` takes a `postgres:` or `postgresql:` URL instead of a
  directory. The first open creates eventfold's tables; the options are the
  same as for a directory where they apply, and those that only mean
  something for files are refused by name before anything is created.

  Background:
    Given an empty PostgreSQL database

  Rule: Options that only mean something for files are refused, and nothing is created

    Scenario Outline: Opening with <option> is refused
      When the store is opened with the file-only option <option>
      Then the open was rejected with an InvalidInputError saying "<option>"
      And the database holds no eventfold table

      Examples:
        | option       |
        | segmentSize  |
        | repair       |
        | fs           |
        | verifyOnOpen |
        | onCorruption |

  Rule: A read-only open creates nothing and writes nothing

    Scenario: A read-only open of an empty database
      When a read-only store is opened on the database
      Then the open was rejected with a StoreNotFoundError
      And the database holds no eventfold table

    Scenario: A read-only store reads what a writer appended and refuses to append
      Given a store on PostgreSQL whose log holds 3 events
      When a read-only store is opened on the database
      Then the read-only store reads 3 events
      And its append is rejected with a ReadOnlyStoreError, and the log still holds 3 events

  Rule: A schema of another version than this eventfold's is left as it was

    Scenario Outline: The schema says version <version>
      Given a store on PostgreSQL whose log holds 3 events
      And the store is closed
      And the schema's version row is set to <version>, as <who> would
      When the store is opened
      Then the open was rejected with an UnsupportedFormatError
      And the schema's version row still says <version>

      Examples:
        | version | who                                   |
        | 4       | a newer eventfold                     |
        | 0       | something that is not eventfold       |

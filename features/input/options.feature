Feature: Options and arguments are checked, so a typo never changes behaviour silently
  Every public method checks its arguments before it does anything. An
  options object may only hold the keys the method knows: an unknown key —
  usually a typo, such as `expectVersion` for `expectedVersion`, which would
  otherwise append without any concurrency check — is refused with the list
  of allowed keys (and the likely intended one). A value of the wrong type or
  range is refused with what is allowed. `null` where an options object
  belongs is an error; leaving the argument out means the defaults. Every
  refusal is an InvalidInputError, and `open` creates nothing on disk when
  it refuses.

  Rule: open refuses bad options and bad paths without creating anything

    Scenario Outline: Opening a new store with <options> is refused
      When a store is opened in a new directory with options <options>
      Then the call was rejected with an InvalidInputError saying "<message>"
      And nothing was created on disk

      Examples:
        | options                                                     | message                                                                               |
        | { durabilty: 'flush' }                                      | open options has an unknown option "durabilty" (did you mean "durability"?); allowed: durability, segmentSize, |
        | { durability: 'sync' }                                      | durability must be 'fsync' or 'flush', got "sync"                                     |
        | { repair: 'yes' }                                           | repair must be 'none' or 'truncate', got "yes"                                        |
        | { maxBatchDelayMs: NaN }                                    | maxBatchDelayMs must be a number of milliseconds from 0 to 2147483647, got number NaN |
        | { maxBatchDelayMs: 2 ** 31 }                                | maxBatchDelayMs must be a number of milliseconds from 0 to 2147483647                 |
        | { segmentSize: 0 }                                          | segmentSize must be a whole number from 1 to 1073741824, got number 0                 |
        | { maxEventBytes: 32 * 1024 * 1024 }                         | maxEventBytes must be a whole number from 1 to 16777216                               |
        | { snapshotEvery: 1.5 }                                      | snapshotEvery must be a whole number >= 0, got number 1.5                             |
        | { fs: {} }                                                  | fs must be a file system object                                                       |
        | { projections: [] }                                         | projections must be an object of projections by name                                  |
        | { projections: { totals: { initialState: {}, version: 1 } } } | projection "totals": evolve must be a function, got undefined                       |
        | { projections: { totals: { initialState: 0, version: 1, evolve() {} } } } | projection "totals": initialState must be an object or an array, got number 0 |
        | { projections: { totals: { initialState: {}, version: 1, evolve() {}, verison: 2 } } } | projection "totals" has an unknown key "verison" (did you mean "version"?) |
        | null                                                        | open options must be an object (or left out), got null                                |
        | 'flush'                                                     | open options must be an object (or left out), got "flush"                             |
        | Object.create({ maxEventBytes: 100 })                       | open options must be a plain object (its own properties are read, inherited ones would be ignored), got an object with a custom prototype |
        | new (class Config { get maxEventBytes() { return 100 } })() | open options must be a plain object (its own properties are read, inherited ones would be ignored), got a Config object |
        | { projections: Object.create({ totals: { initialState: {}, version: 1, evolve() {} } }) } | open options: projections must be a plain object |
        | { projections: Object.defineProperty({}, '__proto__', { enumerable: true, value: { initialState: {}, version: 1, evolve() {} } }) } | a projection cannot be named "__proto__"; choose another name |

    Scenario Outline: Opening a store at <path> is refused
      When a store is opened at <path>
      Then the call was rejected with an InvalidInputError saying "<message>"
      And nothing was created on disk

      Examples:
        | path                        | message                                                |
        | an empty path               | the store directory must be a non-empty path, got ""   |
        | the number 123              | the store directory must be a non-empty path, got number 123 |
        | a path that is a file       | is a file, not a store directory                       |
        | a path inside a file        | part of its path is a file, not a directory            |

  Rule: Every method's options are checked the same way

    Scenario Outline: <call> is refused
      Given a new store
      And "acct" has 2 events
      When the store is called as <call>
      Then the call was rejected with an InvalidInputError saying "<message>"
      And the store still holds 2 events

      Examples:
        | call                                                             | message                                                                                   |
        | store.append('acct', [{ type: 'T' }], { expectVersion: 1 })      | append options has an unknown option "expectVersion" (did you mean "expectedVersion"?); allowed: expectedVersion |
        | store.readStream('acct', null)                                   | readStream options must be an object (or left out), got null                              |
        | store.readStream('acct', { direction: 'backwards' })             | direction must be 'forward' or 'backward', got "backwards"                                |
        | store.readStream('acct', { limit: -1 })                          | limit must be a whole number >= 0 (or Infinity), got number -1                            |
        | store.readStream('acct', { reverse: true })                      | readStream options has an unknown option "reverse"; allowed: from, direction, limit       |
        | store.readAll(null)                                              | readAll options must be an object (or left out), got null                                 |
        | store.readAll({ form: 1 })                                       | readAll options has an unknown option "form" (did you mean "from"?); allowed: from, limit |
        | store.subscribe('mailer', () => {}, null)                        | subscribe options must be an object (or left out), got null                               |
        | store.subscribe('mailer', () => {}, { checkpointEvry: 10 })      | subscribe options has an unknown option "checkpointEvry" (did you mean "checkpointEvery"?) |
        | store.aggregateStream('acct', null)                              | aggregateStream options must be an object with initialState and evolve, got null          |
        | store.aggregateStream('acct', { initialState: {} })              | aggregateStream options needs evolve (a function)                                         |
        | store.aggregateStream('acct', { initialState: {}, evolve() {}, to: 'end' }) | to must be a whole number >= 0 (or Infinity), got "end"                         |
        | store.streamVersion(42)                                          | stream name must be a non-empty string, got number 42                                     |
        | store.state(7)                                                   | a projection name must be a string, got number 7                                          |
        | EventStore.inMemory({ durabilty: 'flush' })                      | inMemory options has an unknown option "durabilty" (did you mean "durability"?)           |
        | EventStore.inMemory(null)                                        | inMemory options must be an object (or left out), got null                                |
        | store.append('acct', [{ type: 'T' }], Object.create({ expectedVersion: 5 })) | append options must be a plain object (its own properties are read, inherited ones would be ignored) |
        | store.subscribe(10n, () => {})                                   | subscription name must be 1-100 letters, digits, '.', '_' or '-', got bigint 10           |

    Scenario: An options object whose getter throws is refused, the getter's error kept as the cause
      Given a new store
      And "acct" has 2 events
      When the store is called as store.readAll({ get from() { throw new Error('no from today') } })
      Then the call was rejected with an InvalidInputError saying "readAll options could not be read: no from today"
      And the error's cause is the getter's error

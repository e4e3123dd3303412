Feature: What goes into an event comes out exactly, or is refused
  Event data and metadata are stored as msgpack. Everything the data model
  accepts reads back exactly as it went in — same types, same values, also
  after the store is closed and reopened, through readStream and readAll
  alike. Anything that msgpack would change (or that cannot be stored) is
  refused before it takes a position: an InvalidInputError names the event,
  the field inside the data and what is wrong, and nothing is written.

  Background:
    Given a new store

  Rule: Plain data, numbers at their edges, bigints, Dates, binary and Sets read back exactly

    Scenario Outline: Data holding <value> reads back exactly
      When an event is appended whose data holds <value>
      Then after a reopen, readStream and readAll give back the same value exactly

      Examples:
        | value                                                    |
        | astral characters "🎉 𝄞 👩‍👩‍👧"                              |
        | NaN, Infinity and -Infinity                              |
        | the largest and smallest safe integers                   |
        | a bigint of 64 bits                                      |
        | a bigint of 200 bits                                     |
        | a Date                                                   |
        | an invalid Date                                          |
        | a Uint8Array                                             |
        | a Buffer                                                 |
        | a Float64Array                                           |
        | a BigInt64Array                                          |
        | an ArrayBuffer                                           |
        | a Set                                                    |
        | undefined inside an array                                |
        | a key whose value is undefined                           |
        | keys named "constructor", "toString" and "hasOwnProperty" |
        | numeric-looking keys                                     |
        | a string at top level                                    |

    Scenario: An object without a prototype reads back as a plain object with the same keys
      When an event is appended whose data holds an object without a prototype
      Then after a reopen, readStream and readAll give back the same value exactly

    Scenario: An event without data reads back with data null
      When an event is appended whose data holds no data at all
      Then after a reopen, readStream and readAll give back the same value exactly

  Rule: What msgpack would change, or cannot store, is refused with the place and the reason

    Scenario Outline: Data holding <value> is refused
      When an event is appended whose data holds <value>
      Then it is refused with an InvalidInputError saying "<message>"

      Examples:
        | value                        | message                                                        |
        | -0                           | event 0 data.balance is -0 (negative zero)                     |
        | a "__proto__" key            | event 0 data.account.__proto__ is a __proto__ key               |
        | a symbol-keyed property      | event 0 data has a symbol-keyed property                       |
        | an array with a hole         | event 0 data.list[1] is a hole in an array                     |
        | a Map                        | event 0 data.byId is a Map                                     |
        | a class instance             | event 0 data.price is a Money object                           |
        | a Date subclass              | event 0 data.at is a Stamp object                              |
        | an Array subclass            | event 0 data.items is an instance of an Array subclass         |
        | a function                   | event 0 data.callback is a function                            |
        | a symbol                     | event 0 data.kind is a symbol                                  |
        | a DataView                   | event 0 data.view is a DataView                                |
        | a Promise                    | event 0 data.later is a Promise                                |
        | a lone surrogate in a string | event 0 data.note has a lone surrogate (U+D800) at index 11    |
        | a lone surrogate in a key    | event 0 data has a key with a lone surrogate (U+D800) at index 5 |
        | a getter that throws         | event 0 data could not be read: no value today                 |
        | a proxy whose traps throw    | event 0 data could not be read: trap says no                   |
        | data nested 65 levels deep   | nests deeper than 64 levels                                    |

  Rule: A value is kept or refused alike, whichever way it reaches the store

    Scenario Outline: Keys named "constructor" and "toJSON" that hold data are kept <way>
      When an object whose "constructor" key holds 1 and whose "toJSON" key holds "x" is stored <way>
      Then after a reopen that object reads back exactly

      Examples:
        | way                                                   |
        | as an event's data                                    |
        | as event data appended while another append is checked |
        | as a stream's custom metadata                         |
        | in a projection's state taken into a snapshot         |

  Rule: An object's keys are written in the order a plain copy of it keeps them

    @file-only
    Scenario: A proxy that lists a name before a number is stored as its plain copy
      When an event is appended whose data is a proxy listing the key "b" (holding 1) before the key "1" (holding 2)
      Then the log holds that data byte for byte as msgpack writes its plain copy, the key "1" first

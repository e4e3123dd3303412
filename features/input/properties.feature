@properties
Feature: Properties hold for generated inputs, not just the examples
  fast-check generates inputs a person would not think of: nested objects
  and arrays, strings over all of Unicode (astral characters, grapheme
  clusters), numbers at their edges (NaN, ±Infinity, the largest and
  smallest doubles), bigints of any size, Dates (invalid ones too), binary
  of several types, Sets, objects without a prototype — and malformed input
  of every kind the data model refuses, buried at a random depth. Each case
  runs on a fresh store on the simulated disk. `npm test` runs a few hundred
  cases; `npm run properties` runs many more (EVENTFOLD_PROPERTY_RUNS). The
  seed is attached to the report; a failure prints the seed and path that
  replay it (EVENTFOLD_PROPERTY_SEED, EVENTFOLD_PROPERTY_PATH).

  Rule: Plain data reads back exactly after a reopen

    Scenario: Generated events round-trip through append, close, reopen, readStream and readAll
      When 300 generated appends of plain data go through append, close, reopen and both reads
      Then every case held

  Rule: Malformed input is refused with a typed error and changes no byte

    Scenario: Generated malformed appends are refused and leave every file as it was
      When 300 generated malformed appends are made to a store holding 3 events
      Then every case held

    Scenario: Generated malformed open options are refused and create nothing
      When 200 generated malformed option objects are passed to open
      Then every case held

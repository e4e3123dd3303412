Feature: Typed events and projections, checked by the compiler
  An application declares the union of its event types once, and opens the
  store with it: `EventStore.open<BankEvent, { balances: Balances }>(dir, {
  projections })` (or with no type arguments, when the projections' states
  are inferred). From then on `append` accepts only those shapes; whatever is
  read back — `readStream`, `readAll`, subscription handlers, projections,
  `aggregateStream` — narrows on `type`; and `store.state('balances')` is
  typed by the projection of that name. A wrong name, a wrong event shape or
  an expected version that can never match is a compile error, not a
  surprise at run time.

  These scenarios compile TypeScript the way an application does: under
  `strict`, with Node's module resolution, importing `eventfold` by name, so
  the built package (its `exports`, its declarations) is what is checked.
  The README's blocks are compiled with every declaration file checked, the
  package's own included, so a broken declaration in `dist/` fails here.

  Rule: Every TypeScript example of the README compiles

    Scenario: The README's TypeScript blocks compile under strict against the built package
      Given the TypeScript blocks of the README
      When each is compiled under strict as an ES module importing "eventfold"
      Then there are at least 3 blocks
      And every block compiles without an error

    Scenario: The README's TypeScript blocks print what their comments say
      Given the TypeScript blocks of the README
      When each is run with node in an empty directory
      Then at least 6 lines marked "// →" printed, each exactly what its comment says

  Rule: Wrong event shapes, projection names and expected versions do not compile

    Scenario: Each line marked as a compile error fails with the error it names, and the rest compiles
      Given the type tests in "typetests/typed-api.mts"
      When they are compiled under strict against the built package
      Then the file compiles without an error, every expected error included
      And with the markers removed, each of at least 20 marked lines fails with the error code it names
      And no other line fails

  Rule: The package works from import and from require, with types for both

    Scenario: The packed package passes the ecosystem's own checks
      Given the package packed as npm would publish it
      Then "@arethetypeswrong/cli" finds no problem for node10, node16 from CommonJS, node16 from ES modules and bundlers
      And "publint" finds nothing to report, not even a suggestion

    Scenario: import and require load one and the same store
      When an ES module imports "eventfold" and "eventfold/emmett" and requires them too
      Then both see the same exports and the same EventStore class
      And the ES module's adapter throws conflicts as the ES module build of Emmett's own error class

  Rule: A projection name the compiler cannot check is refused with a typed error

    Scenario: Asking for a projection the store was not opened with
      Given a store opened with the projections "balances" and "counts"
      When the application asks for the state of "balance", a name from outside the program's types
      Then it is refused with an UnknownProjectionError, an InvalidInputError, naming "balances" and "counts"

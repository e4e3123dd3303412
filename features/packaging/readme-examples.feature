Feature: The README's first example runs as written, as JavaScript
  A new user copies the README's embedding example into a project made by
  `npm init -y`. It uses top-level `await`, so it runs as an ES module: as
  the README says, saved as `example.mjs` it runs with plain `node`, no
  TypeScript needed, and prints what its comments say. (The TypeScript blocks
  are compiled and run under `strict` by the typed-API feature.)

  Rule: The embedding example prints what its comments promise

    Scenario: The embedding example, saved as example.mjs in a project made by npm init -y
      Given a project made by "npm init -y" that depends on this eventfold
      When the README example that shows "ExpectedVersionConflictError" is saved as "example.mjs" and run with node
      Then it prints the append's result: position 1, version 1
      And it prints versions 0 and 1 of the stream at positions 0 and 1
      And it prints the expected and actual versions of the conflict: 0 and 1

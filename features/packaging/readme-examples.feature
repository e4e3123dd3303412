Feature: The README's examples run as written
  A new user copies the README's examples into a project made by
  `npm init -y`. They use top-level `await`, so they run as ES modules: the
  JavaScript one saved as `.mjs`, the TypeScript one as `.mts`, compiled with
  `tsc`. Each prints what the README says it prints.

  Background:
    Given a project made by "npm init -y" that depends on this eventfold

  Rule: Each example prints what its comments promise

    Scenario: The embedding example, saved as example.mjs
      When the README example that shows "ExpectedVersionConflictError" is saved as "example.mjs" and run with node
      Then it prints versions 0 and 1 of the stream at positions 0 and 1
      And it prints the expected and actual versions of the conflict: 0 and 1

    Scenario: The projection example, saved as balances.mts and compiled with tsc
      When the README example that shows "balances" is saved as "balances.mts", compiled with tsc and run with node
      Then it prints the balance of "account-42" as 5

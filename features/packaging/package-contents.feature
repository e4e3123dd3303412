Feature: The published package holds everything it refers to
  What `npm publish` would ship: the compiled library with its type
  declarations, the `eventfold` command, the README, the MIT LICENSE, and the
  TypeScript sources with the on-disk format documents (`FORMAT.md`) next to
  them — so that the README's links and the source maps lead somewhere in an
  installed copy. `dist/` is built when the package is packed (`prepack`),
  so installing eventfold runs none of its scripts.

  Rule: Every file the package refers to is in the package

    Scenario: The package as npm would publish it
      When the package is packed as npm would publish it
      Then it holds the LICENSE, the README, the library with its type declarations and the eventfold command
      And every link of the README to a file leads to a file of the package
      And every source map leads to source files of the package
      And installing the package runs none of its scripts

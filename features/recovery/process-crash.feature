@recovery
Feature: A process killed with SIGKILL loses nothing it acknowledged
  A real crash: a child process appends in a loop from several concurrent
  callers and prints every acknowledged append. The parent kills it with
  SIGKILL at a random moment, reopens the store, and checks the log against
  what was acknowledged. Then it starts the next round on the same store.

  Background:
    Given a store directory shared with a child process

  Rule: After every kill, every acknowledged event is present exactly once, in order, with no gaps

    Scenario: 3 rounds of appending and killing
      When a child appends in a loop and is killed with SIGKILL after a random number of acknowledgements, 3 times
      Then after every kill every acknowledged event was present exactly once, in its stream's order
      And after every kill the positions ran from 0 without a gap and the store accepted an append

    @soak
    Scenario: 40 rounds of appending and killing
      When a child appends in a loop and is killed with SIGKILL after a random number of acknowledgements, 40 times
      Then after every kill every acknowledged event was present exactly once, in its stream's order
      And after every kill the positions ran from 0 without a gap and the store accepted an append

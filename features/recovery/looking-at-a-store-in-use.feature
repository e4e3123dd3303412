Feature: Looking at a store never gets in its way
  `eventfold info` and `eventfold verify` ask who has the store open without
  taking any lock (on Linux they read the kernel's lock table; elsewhere they
  take a shared lock for a moment), so an application opening the store at
  the same moment is never refused because someone was looking. And verify
  reads the snapshots before the log: a writer that keeps appending and takes
  a snapshot while verify scans the log cannot make a healthy store look
  damaged.

  Scenario: 500 opens while another process keeps asking who has the store open
    Given a store of 5 events that was closed
    And another process that keeps asking who has the store open, as eventfold info does
    When this process opens and closes the store 500 times
    Then all 500 opens succeed
    And the other process asked at least once

  Scenario: The owner takes a snapshot while verify reads the log
    Given a store that snapshots only on checkpoint, with 100 events and a checkpoint
    When verify reads the store while its owner appends 50 events and checkpoints just after verify has read the log
    Then verify finds the store healthy with 100 events and no problem

@file-only @snapshot
Feature: A disk call of a snapshot write that fails stops the store, like a failed append
  A snapshot is written beside the log: a temporary file, its fsync, a
  rename into place, an fsync of the snapshots folder, then the oldest
  snapshots removed (in 'flush' mode the log is fsynced first, so that no
  snapshot outlives the events it covers). The kernel reports a failed fsync
  once and may drop the pages it could not write: a later fsync can then
  report success for data that is gone. So whichever of those calls fails,
  the store stops as after a failed append: the snapshot is refused with a
  StoreFailedError, and so is every append after it, without touching the
  disk; reads keep serving every acknowledged event. A snapshot only saves
  work on open, and the next open uses one only if it was written whole
  (each is checksummed; a temporary one is removed): it finds every
  acknowledged event exactly, none that was refused, and the projections as
  a full replay of the log gives them.

  Background:
    Given a closed store on a simulated disk with 300 events of 6 accounts, a projection of each account's balance, snapshots at positions 99 and 199, and subscription "mailer" having handled up to position 149

  Rule: Whichever disk call of a snapshot write fails, the store stops and keeps every acknowledged event

    Scenario Outline: Each disk call of a snapshot asked for between two appends fails in turn with <error>, in '<durability>' mode
      When a snapshot is asked for between two appends and each disk call of its write in turn fails with <error>, the store being in '<durability>' mode
      Then every such snapshot was refused with a StoreFailedError
      And after every failure an append was refused with a StoreFailedError without touching the disk
      And after every failure the stopped store still read every acknowledged event, and no refused one
      And after every failure the store opens again with every acknowledged event exactly, no refused one, and each balance as a full replay gives it
      And after every failure and then a power cut that drops, keeps or writes back part of every unsynced write, the store opens with every event it must keep, no refused one, and each balance as a full replay gives it
      And after every failure, a power cut and a second one at each disk call of the open that follows, the store opens with every event it must keep, no refused one, and each balance as a full replay gives it

      Examples:
        | error  | durability |
        | EIO    | fsync      |
        | ENOSPC | fsync      |
        | EIO    | flush      |

  Rule: A snapshot that falls due while appending stops the store the same way

    Scenario: The fsync of a snapshot taken every 50 events fails while 100 events are appended one after another
      When the store takes a snapshot every 50 events, the fsync of its next snapshot file will fail with EIO, and 100 events are appended one after another
      Then a snapshot asked for afterwards is refused with a StoreFailedError, the same one the failed snapshot reports
      And every append from the first refused one on was refused with it, and so is an append now
      And the store opens again with every acknowledged event exactly, no refused one, and each balance as a full replay gives it

  Rule: A snapshot under way when the store stops touches the disk no more

    Scenario: The store stops while a snapshot waits for the fsync of its file
      When a snapshot waits for the fsync of its file, and meanwhile the fsync of an append fails with EIO
      Then the snapshot was refused with the StoreFailedError the append got
      And no disk call changed the disk after the store stopped, and no newer snapshot than the one at position 199 is in place
      And the store opens again with every event of before the snapshot exactly, not the refused one, and each balance as a full replay gives it

@file-only @recovery
Feature: A failed write of the clean-shutdown marker: the close says so, and the next open recovers
  A clean close leaves the CLEAN marker (a temporary file, its fsync, a
  rename into place, an fsync of the store folder) after every event is
  durable; the next open then accepts no damage at all. The marker is the
  store's last write, so a failure there has nothing left to stop: close()
  rejects with a StorageError naming the close, and nothing is written
  after it. The marker is under its name only once its own bytes were
  fsynced, and carries a checksum: the next open either finds a true
  marker or none, and then recovers as after a crash — every event there.

  Background:
    Given a closed store on a simulated disk with 300 events of 6 accounts, a projection of each account's balance, snapshots at positions 99 and 199, and subscription "mailer" having handled up to position 149

  Rule: Whichever disk call of the marker's write fails, no event is lost

    Scenario Outline: Each disk call of a close that writes the marker fails in turn with <error>, in '<durability>' mode
      When 10 events are appended and each disk call of the close that follows, but for clearing the owner's note in LOCK, in turn fails with <error>, the store being in '<durability>' mode
      Then every such close was refused with a StorageError
      And after every failure, and after a power cut that drops, keeps or writes back part of every unsynced write, the store opens with every event it must keep and each balance as a full replay gives it

      Examples:
        | error  | durability |
        | EIO    | fsync      |
        | ENOSPC | fsync      |
        | EIO    | flush      |

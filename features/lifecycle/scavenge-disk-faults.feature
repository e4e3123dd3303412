@file-only
Feature: A disk call of a scavenge that fails stops the store, like a failed append
  A scavenge writes, fsyncs, renames and removes files, as appends do. The
  kernel reports a failed fsync once: the pages it could not write may be
  dropped, and a second fsync may then report success without them. So a
  scavenge whose write, fsync, file creation, rename, removal or directory
  fsync fails stops the store as a failed append does: that scavenge, every
  append, checkpoint and scavenge after it are refused with
  StoreFailedError, and the store touches the disk no more until it is
  opened again. The next open finds every segment either as it was or as
  the scavenge rewrote it, with every kept event, and a scavenge run then
  finishes the work.

  Background:
    Given a store on a simulated disk with segments of 4 KiB and 6 streams of 20 events, "s-0" and "s-2" deleted, "s-1" deleted for good with its events holding the text "ERASE-ME-4711", "s-3" with maxCount 3, a projection keeping each stream's last text, a repair's copy of some of "s-1"'s events in quarantine and a checkpoint taken last

  Rule: Whichever disk call of a scavenge fails, the store stops and keeps every kept event

    Scenario Outline: Each disk call of a scavenge in turn fails with <error>, in '<durability>' mode
      When each disk call of a scavenge in turn fails with <error>, the store being in '<durability>' mode
      Then every such scavenge was refused with a StoreFailedError
      And after every failure an append, a checkpoint and another scavenge were refused with a StoreFailedError without touching the disk
      And after every failure the store opens again with every kept event exactly as before, and each segment as it was or as the scavenge rewrote it
      And after every failure and then a power cut that drops, keeps or writes back part of every unsynced write, the store opens with every kept event exactly as before
      And after every failure, a power cut and a second one at each disk call of the open that follows, the store opens with every kept event exactly as before
      And after every failure a scavenge run after the reopen leaves the text "ERASE-ME-4711" in no file, and every kept event as before

      Examples:
        | error  | durability |
        | EIO    | fsync      |
        | ENOSPC | fsync      |
        | EIO    | flush      |

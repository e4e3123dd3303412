@file-only @subscription
Feature: A disk call of a subscription's checkpoint write that fails stops the store
  A subscription stores the last position its handler finished in
  subscriptions/<name>.json: a temporary file, its fsync, a rename into
  place, an fsync of the folder. A failed write or fsync stops the store,
  whatever file it was for: after a failed fsync the kernel may have dropped
  pages it could not write, and the store trusts that disk no more until it
  is opened again. So the subscription's stop is refused with a
  StoreFailedError, and so is every append after it, without touching the
  disk. Nothing acknowledged depends on a checkpoint: the next open finds
  every event, and the checkpoint as it was before or as it was being
  written — never damaged, never past what the handler finished — so the
  subscription resumes with nothing skipped (at least once, as always).

  Background:
    Given a closed store on a simulated disk with 300 events of 6 accounts, a projection of each account's balance, snapshots at positions 99 and 199, and subscription "mailer" having handled up to position 149

  Rule: Whichever disk call of a checkpoint write fails, the store stops and the subscription resumes with nothing skipped

    Scenario Outline: Each disk call of the checkpoint "mailer" stores as it stops fails in turn with <error>
      When subscription "mailer" catches up to position 299 and each disk call of the checkpoint it stores as it stops in turn fails with <error>
      Then every such stop was refused with a StoreFailedError
      And after every failure an append was refused with a StoreFailedError without touching the disk
      And after every failure, and after a power cut that drops, keeps or writes back part of every unsynced write, the store opens with all 300 events and the checkpoint of "mailer" at position 149 or 299
      And after every failure, a power cut and a second one at each disk call of the open that follows, the store opens with all 300 events and the checkpoint of "mailer" at position 149 or 299

      Examples:
        | error  |
        | EIO    |
        | ENOSPC |

@recovery
Feature: The lock of a dead process is taken over; a live one is respected
  The LOCK file names the process that owns the store. A second process that
  opens the directory while the owner lives gets a StoreLockedError with the
  owner's pid. When the owner died without closing — killed, or the machine
  went down — its lock is stale: the next open takes it over and says so in
  the recovery report.

  Rule: A live owner in another process keeps the store

    Scenario: Another process holds the store open
      Given a child process that has opened the store and keeps it open
      When this process opens the same store
      Then the open was rejected with a StoreLockedError naming the child process

  Rule: A dead owner's lock is taken over

    Scenario: The owner was killed with SIGKILL while holding the store
      Given a child process that has opened the store and keeps it open
      When the child process is killed with SIGKILL
      And this process opens the same store
      Then the store opens and the recovery report names the dead process as the stale lock owner
      And the recovery report says the last shutdown was not clean

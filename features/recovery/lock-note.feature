Feature: The name of an owner that died is kept until a store opens successfully
  The LOCK file carries a note for people — which process owns the store —
  that a clean close empties. When an owner dies, the next successful open
  names it in its recovery report (staleLockOwner). An open that fails on its
  way (a damaged log, a projection that throws) puts that note back as it
  found it, so the open that finally succeeds — often the repair the error
  asked for — still names the process that died.

  Scenario: A failed open between the crash and the successful one
    Given a store of 5 events that was closed
    And a child process that has opened the store and keeps it open
    When the child process is killed with SIGKILL
    And this process opens the same store with a projection that fails on every event
    Then the open was rejected with a ProjectionError
    When this process opens the same store
    Then its recovery report names the killed process as the owner that never closed the store

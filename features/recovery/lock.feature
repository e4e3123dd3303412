@recovery @ownership
Feature: Only the kernel's lock decides who owns a store
  The LOCK file holds the owner's pid, host and start time for people to
  read, but it is never the authority: the operating system's lock on it is.
  So a killed owner's store opens at once in the next process, a pid in the
  file that now belongs to some other process blocks nothing, and two
  processes that cannot see each other's pids — in separate PID namespaces,
  like two containers sharing a volume — still never both own the store.

  Rule: A killed owner's store opens at once in a new process

    Scenario: The owner was killed with SIGKILL while holding the store
      Given a child process that has opened the store and keeps it open
      When the child process is killed with SIGKILL
      And a new process opens the same store
      Then that process owns the store at its first attempt
      And its recovery report names the killed process as an owner that never closed the store
      And its recovery report says the last shutdown was not clean

  Rule: A pid in the LOCK file blocks nothing

    Scenario: The LOCK file names a live process that never opened the store
      Given a store of 5 events that was closed
      And its LOCK file names a live process that has nothing to do with the store
      When this process opens the same store
      Then the store opens with 5 events

    Scenario: The LOCK file names pid 1, as every container's first process is
      Given a store of 5 events that was closed
      And its LOCK file names process 1
      When this process opens the same store
      Then the store opens with 5 events

  Rule: Processes in separate PID namespaces never both own a store

    Scenario: Two processes that each believe they are pid 1
      Given two processes, each in a PID namespace of its own where it is process 1
      When both open the same store, one after the other
      Then the first owns the store and the second is refused with a StoreLockedError naming process 1

  Rule: Racing openers: exactly one owner

    Scenario: 300 rounds of three processes racing for a killed owner's store
      Given 300 copies of a store whose owner was killed with SIGKILL
      When three processes race to open each copy at the same moment, round by round
      Then every round had exactly one owner, and the two others were refused with a StoreLockedError
      And every round's owner found the killed process named as an owner that never closed the store

  Rule: A LOCK file deleted under a running store is locked again, or the store stops

    The owner checks every second that the file it locked is still the one
    named LOCK. If someone deleted it, the owner locks the new one; if
    another process got there first, that process owns the store now and
    the old owner fail-stops before writing another byte.

    Scenario: The owner locks the new LOCK file before anyone else opens the store
      Given a child process that has opened the store and keeps it open
      When someone deletes the LOCK file
      And the owner has locked a new LOCK file
      And this process opens the same store
      Then the open was rejected with a StoreLockedError naming the child process

    Scenario: Another process opened the store first: the old owner stops writing
      Given a writer process that appends to the store and reports each acknowledged append
      When someone deletes the LOCK file and this process opens the store at once
      Then the writer stops within moments, its appends failing with a StoreFailedError that says another process owns the store
      And every event the writer acknowledged is in the store

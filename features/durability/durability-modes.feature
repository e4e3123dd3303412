Feature: Durability modes say exactly what an acknowledged append survives
  In the default mode, 'fsync', an append is acknowledged only after its
  batch has been written durably (one write that returns only once it is on
  stable storage, as a write and an fdatasync): it survives a crash of the
  process and a power loss. In 'flush' mode the batch is handed to the
  operating system and acknowledged without an fsync: it survives a crash of
  the process (the kernel still writes it out), but a power loss can take the
  most recent acknowledged appends with it. 'flush' is for data that can be
  rebuilt; 'fsync' is for everything else.

  Rule: In 'fsync' mode every acknowledged append survives a power loss

    Scenario: 300 acknowledged events survive a power cut right after their acknowledgement
      Given the store lives on a simulated disk
      And a new store with:
        | durability | fsync |
      And "meter-1" has 300 events
      When the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 300 events

  Rule: In 'flush' mode acknowledged appends survive a process crash but not a power loss

    Background:
      Given the store lives on a simulated disk
      And a new store with:
        | durability | flush |

    Scenario: A process crash keeps everything acknowledged in 'flush' mode
      Given "meter-1" has 300 events
      When the process dies but the operating system writes out what it was given
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 300 events

    Scenario: A power loss may drop acknowledged events in 'flush' mode
      Given "meter-1" has 300 events
      When the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "meter-1" holds fewer than 300 events

  Rule: An append acknowledged in 'fsync' mode is durable with everything it follows, even what a crashed process left unsynced

    Scenario: A 'flush' store crashes; the 'fsync' store opened next keeps its own appends and the 300 events before them through a power cut
      Given the store lives on a simulated disk
      And a new store with:
        | durability | flush |
      And "meter-1" has 300 events
      When the process dies and what it wrote waits, unsynced, in the operating system's cache
      And the store is opened in 'fsync' mode
      And "meter-2" has 20 events
      And the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then stream "meter-1" holds exactly 300 events
      And stream "meter-2" holds exactly 20 events

  Rule: Closing drains the queue and marks a clean shutdown

    Scenario: Appends still queued when close is called are written before it returns
      Given a new store
      When 500 callers each append 1 event to their own stream and the store is closed at once
      Then all 500 appends succeed
      And after reopening the recovery report says the last shutdown was clean
      And reading all events returns 500 events with positions 0 to 499

    Scenario: A reopened store that was not closed says so
      Given the store lives on a simulated disk
      And a new store
      And "meter-1" has 10 events
      When the power fails and unsynced writes are lost
      And the store is opened after the power comes back
      Then the recovery report says the last shutdown was not clean

Feature: A batch of events is all or nothing
  The events given to one append form one batch. Readers never see part of a
  batch, and after any crash a batch is either wholly present or wholly
  absent. On disk, only the last record of a batch carries the commit flag;
  records of a batch whose commit record never landed are discarded on open.

  Rule: A batch with one bad event writes none of its events

    Scenario: The fourth of 5 events cannot be stored, so none is
      Given a new store
      When "invoice-3" appends 5 events of which event 4 holds a function
      Then the last append was rejected with an InvalidInputError
      And the store still holds 0 events
      And no byte was written to the log

  Rule: A batch cut short by a crash is entirely absent after recovery

    @file-only
    Scenario: The power fails while a 100-event batch is half on disk
      Given a new store on a simulated disk
      And "invoice-3" has 10 events
      When the power fails while a 100-event batch is being written, half of it on the disk
      And the store is opened after the power comes back
      Then stream "invoice-3" holds exactly 10 events
      And the recovery report says 50 events of an incomplete batch were discarded

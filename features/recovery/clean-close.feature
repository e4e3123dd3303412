@recovery
Feature: After a clean close there is no torn tail
  Closing a store waits for every append, fsyncs, and leaves a clean-shutdown
  marker that records the last position. Every record up to that position
  was acknowledged. So when the marker is there, the next open trusts
  nothing less than the whole log: damage anywhere — even in the very last
  record — or a log that ends anywhere but at that position fails the open
  with a CorruptionError. It is never cut away as if it were a torn write,
  and no segment file is ever removed. An operator who accepts the loss
  opens with `repair: 'truncate'`: the damaged bytes go to `quarantine/`,
  and the recovery report says what was set aside and why.

  Background:
    Given a store on a simulated disk whose segments roll every 4 KiB, holding 200 events

  Rule: Damage at the end of a cleanly closed log fails the open

    Scenario Outline: <damage> after a clean close
      When <damage>
      And the store is opened again
      Then the open was rejected with a CorruptionError saying "<says>"

      Examples:
        | damage                                                  | says                                                       |
        | one bit flips in the body of the last record of the log | the store was closed cleanly at position 199               |
        | the last 1 KiB of the log are zeroed                    | the store was closed cleanly at position 199               |
        | the last segment is cut to 20 bytes, below its header   | shorter than its 32-byte header                            |
        | the last segment file is deleted                        | closed cleanly at position 199, but the log ends at position |
        | 100 bytes of leftovers are added after the last record  | the store was closed cleanly at position 199               |

  Rule: A repair sets the damage aside and says so; it never cuts silently

    Scenario Outline: Repairing <damage> after a clean close
      When <damage>
      And the store is opened again with repair "truncate"
      Then the store opens with <kept> events
      And the recovery report quarantined the damage, saying "<says>"
      And the recovery report shows no torn tail
      And 1 more event can be appended at position <kept>

      Examples:
        | damage                                                  | kept | says                                         |
        | one bit flips in the body of the last record of the log | 199  | the store was closed cleanly at position 199 |
        | 100 bytes of leftovers are added after the last record  | 200  | the store was closed cleanly at position 199 |
        | the last segment file is deleted                        | 180  | acknowledged events                          |

@file-only
Feature: Stores written by earlier versions, when "$" stream names were the application's
  Before stream lifecycle existed, an application could name a stream
  "$orders", or even "$lifecycle". Those names now belong to the store
  itself, whose stream "$lifecycle" holds stream metadata and deletions.
  The store never misreads such events: an earlier version's store that
  holds a "$" stream is refused on open with a LegacyStreamNamesError that
  names the streams and says how to upgrade, and nothing in it is changed.
  A store is marked as one whose "$" streams are its own by the first open
  of this version that may write it (new stores from the start); an earlier
  version's store without "$" streams simply opens.

  Rule: An earlier version's store with "$" streams is refused, unchanged

    Scenario Outline: A store whose "$lifecycle" stream holds an application event with <data>
      Given a store written by an earlier version, with 1 event in "orders" and 1 event in "$lifecycle" whose data is <data>
      When this version opens the store
      Then the open was refused with a LegacyStreamNamesError naming "$lifecycle"
      And the store's files are unchanged
      When this version opens the store read-only
      Then the open was refused with a LegacyStreamNamesError naming "$lifecycle"

      Examples:
        | data                                                         |
        | {"stream":"orders","deleted":"hard","truncateBefore":0}      |
        | null                                                         |

    Scenario: A store with a stream "$orders" is refused, unchanged
      Given a store written by an earlier version, with 1 event in "orders" and 1 event in "$orders" whose data is {"n":1}
      When this version opens the store
      Then the open was refused with a LegacyStreamNamesError naming "$orders"
      And the store's files are unchanged

  Rule: An earlier version's store without "$" streams opens, and its lifecycle works from then on

    Scenario: A store of 2 events in "orders" opens, is deleted softly, and reopens
      Given a store written by an earlier version, with 2 events in "orders"
      When this version opens the store
      And "orders" is deleted
      And the store is closed and opened again
      Then reading "orders" forward returns 0 events
      And no stream is listed

Feature: Every run leaves living documentation a team reads first
  Each run of the features — `npm test`, `npm start`, the soak and scale
  runs — writes cucumber's html, message (ndjson) and junit outputs into
  `reports/`, and from the message streams one self-contained page,
  `reports/index.html`, that loads nothing from the network and reads on a
  phone:
  - the failures first, each with its failing step, its message and a link;
  - a section per capability (the folders of `features/`), each feature's
    description and rules as prose, every scenario with its verdict — one per
    event log when the features ran on more than one — and, opened, its
    steps with their doc strings, data tables, status, duration and
    attachments; outline rows named with their example values;
  - the benchmark (`npm run bench` writes `reports/bench.json`): eventfold,
    SQLite and the raw disk side by side, with the machine and the date, and
    the scale run's figures at the scale that actually ran;
  - the history: each run appends its verdict counts and headline figures to
    `reports/history.ndjson`, kept between runs, and the page draws each
    figure's trend, marking a drop of more than 10 % as worse;
  - a search over scenarios, steps and tags, and a filter by verdict.
  The page is written by a cucumber formatter any cucumber-js run can use,
  `steps/report/living-doc-formatter.cjs`. Its scenarios feed it message
  streams recorded from real cucumber runs of throwaway features (see
  `steps/report/fixtures/record.ts`) and look at the page in headless
  Chromium, clicking and typing as a reader would. Every run ends by printing
  the paths of `index.html` and `cucumber.html`, whether it passed or failed.

  Rule: The page shows the capabilities, verdicts and figures of the run it describes

    Scenario: A run of the concurrency and torn-tail features, read in a headless browser
      Given the features in "features/concurrency" and "features/recovery/torn-tail.feature" were run into a fresh reports folder
      When its living documentation is opened in a headless Chromium
      Then the page has a section for each of the capabilities "Concurrency" and "Recovery"
      And the page lists every scenario of that run with its verdict
      And the page shows the figure "cut copies opened" with the value the run measured
      And the page draws "group commit: appends acknowledged vs fsyncs made" as a bar chart
      And the page links to the full cucumber report
      And the page loaded nothing from the network
      And the run ended by printing where its living documentation and cucumber report are
      And the run added one line to the history in its reports folder

  Rule: Every scenario opens to its steps, with their data and attachments

    Background:
      Given the messages of a run with rules, a Background, data tables, doc strings, outlines and attachments of every media type

    Scenario: A reader opens a scenario and sees what it did, step by step
      When the formatter renders them and the page is opened in a headless Chromium
      And the reader opens the scenario "A data table and a doc string"
      Then its steps are shown with their keyword, status and duration, the Background's step marked as such
      And the step "these deposits are made:" shows its data table of 3 rows
      And the step "the statement reads:" shows its doc string as text
      When the reader opens the scenario "Attachments of any media type"
      Then its step shows each attachment by media type:
        | media type                 | shown as           |
        | text/plain                 | text               |
        | application/json           | text               |
        | image/png                  | image              |
        | image/png                  | image              |
        | image/svg+xml              | image              |
        | text/html                  | text               |
        | application/octet-stream   | download           |
        | text/x.long                | text, cut          |
        | text/uri-list              | address, not a link |
        | text/x.cucumber.log+plain  | text               |
      And every image attached is drawn
      And no script of an attachment ran and the page loaded nothing from the network

    Scenario: Outline rows are named with their example values
      When the formatter renders them and the page is opened in a headless Chromium
      Then the outline "any is met" is listed once with "rule any, count 1" and once with "rule any, count 3"
      And the row "A deposit of 1000000 is accepted" is named with its examples "large amounts"

  Rule: A failing run lists its failures first, each with its failing step

    Scenario: Failed, pending, undefined and ambiguous steps, failing hooks and a retried scenario
      Given the messages of a run with every verdict a scenario can end with, one scenario retried
      When the formatter renders them and the page is opened in a headless Chromium
      Then the first section of the page lists the failures:
        | scenario                             | verdict   | failing step                        |
        | A step fails and the next is skipped | failed    | When a step fails with a diff       |
        | A step is pending                    | pending   | Given a step that is pending        |
        | A step is undefined                  | undefined | Given a step nobody wrote           |
        | A step is ambiguous                  | ambiguous | Given a step two definitions match  |
        | A Before hook fails                  | failed    | Before hook (open the store)        |
        | An After hook fails                  | failed    | After hook                          |
        | Fails on every attempt               | failed    | When a step fails with a diff       |
        | Row 2 of an outline                  | failed    | Given row 2 passes unless it is 2   |
      When the reader follows the link of the first failure
      Then its scenario opens, the failing step marked failed with its message and the step after it skipped
      And the scenario "Flaky: fails the first time, passes when retried" passed, marked retried, its failed first attempt kept
      And the scenario "A step says it is skipped" is shown as skipped, not among the failures
      And the undefined step shows the code cucumber suggests for it

    Scenario Outline: A run that stops outside any scenario is never shown as passed: <what>
      Given the messages of a run with <what>
      When the formatter renders them and the page is opened in a headless Chromium
      Then the failures section says "<problem>"
      And counting the results prints "<counted>"

      Examples:
        | what                                | problem                     | counted            |
        | a BeforeAll hook that fails         | BeforeAll hook failed       | 0 passed, 2 failed |
        | an AfterAll hook that fails         | AfterAll hook failed        | 1 passed, 1 failed |
        | a feature file that is not Gherkin  | Feature file not parsed     | 0 passed, 2 failed |

    Scenario: A run that selects no scenario says so
      Given the messages of a run with a tag expression that selects nothing
      When the formatter renders them and the page is opened in a headless Chromium
      Then the page says 0 scenarios ran and lists no failures
      And counting the results prints "0 passed, 0 failed"

  Rule: A run on two event logs shows each scenario's verdict on each

    Scenario Outline: The same features on the file log and on PostgreSQL, one row failing on PostgreSQL only (<layout>)
      Given a reports folder with the messages of a run on the file log and, in "<postgres messages>", of the same features on PostgreSQL
      When the formatter renders the PostgreSQL run and the page is opened in a headless Chromium
      Then the scenario "A deposit of 2 is accepted" shows "file log" passed and "PostgreSQL" failed
      And the failures list "A deposit of 2 is accepted" on PostgreSQL only
      And counting the results of both prints "file log: 7 passed, 0 failed; PostgreSQL: 6 passed, 1 failed", then "13 passed, 1 failed"

      Examples:
        | layout                  | postgres messages         |
        | beside the file log's   | cucumber-postgres.ndjson  |
        | in a folder of its own  | postgres/cucumber.ndjson  |

    Scenario: PostgreSQL messages left from an earlier run are named, not shown
      Given a reports folder with the messages of a run on the file log and, in "cucumber-postgres.ndjson", of the same features on PostgreSQL the day before
      When the formatter renders the file log run and the page is opened in a headless Chromium
      Then the page shows the file log's verdicts only and says the PostgreSQL messages are from an earlier run

  Rule: The performance section and the history draw the figures that matter

    Scenario: The benchmark side by side, with a column and a row the page has never seen
      Given a reports folder with the bench.json of a benchmark run on this machine, to which a "postgres" column and an "open-loop latency at 1,000 appends/s" row are added
      And the messages of a run with rules, a Background, data tables, doc strings, outlines and attachments of every media type
      When the formatter renders them and the page is opened in a headless Chromium
      Then the performance section names the machine and the date of the benchmark
      And it draws a chart for each workload with a bar for each of "eventfold", "SQLite (WAL, FULL)", "raw disk" and "PostgreSQL" that was measured
      And it draws the row "open-loop latency at 1,000 appends/s"

    Scenario: Three earlier runs in the history, the append rate 30 % higher before
      Given a reports folder whose history holds 3 earlier runs, each with an append rate 30 % higher than the next run's
      And the messages of a run with rules, a Background, data tables, doc strings, outlines and attachments of every media type
      When the formatter renders them and the page is opened in a headless Chromium
      Then the history in the reports folder holds 4 runs
      And the page draws the trend of the append rate over 4 runs
      And the append rate is marked worse

  Rule: The page reads on a phone and filters by tag or verdict

    Scenario: 390 pixels wide: charts and trends fit, searching for a tag and choosing a verdict
      Given the messages of a run with every verdict a scenario can end with, one scenario retried
      And a reports folder with the bench.json of a benchmark run on this machine, to which a "postgres" column and an "open-loop latency at 1,000 appends/s" row are added
      When the formatter renders them and the page is opened in a headless Chromium 390 pixels wide, as on a phone
      Then nothing on the page is wider than the screen
      And every chart's labels and values are whole and inside the chart, and every trend is drawn
      When the reader searches for "@flaky"
      Then only the 2 scenarios tagged "@flaky" are shown
      When the reader clears the search and chooses the verdict "skipped"
      Then only the scenario "A step says it is skipped" is shown

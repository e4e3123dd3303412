Feature: Every run leaves living documentation of what eventfold guarantees
  Each run of the features — `npm test`, `npm start`, the soak and scale
  runs — writes cucumber's html, message (ndjson) and junit outputs into
  `reports/`, and from the message stream one self-contained page,
  `reports/index.html`: a section per capability (the folders of
  `features/`), each feature's description and rules as prose, every
  scenario's verdict and duration, and the figures scenarios measured, as
  tables and, where figures are compared, as bar charts. It opens from disk
  and loads nothing from the network. Every run ends by printing the paths
  of `index.html` and `cucumber.html`, whether it passed or failed.

  Rule: The page shows the capabilities, verdicts and figures of the run it describes

    Scenario: A run of the concurrency and torn-tail features, read in a headless browser
      Given the features in "features/concurrency" and "features/recovery/torn-tail.feature" were run into a fresh reports folder
      When its living documentation is opened in a headless Chromium
      Then the page has a section for each of the capabilities "Concurrency" and "Recovery"
      And the page lists every scenario of that run with its verdict
      And the page shows the figure "cut copies opened" with the value the run measured
      And the page draws "group commit: appends acknowledged vs fsyncs made" as a bar chart
      And the page links to the full cucumber report
      And the page refers to nothing on the network
      And the run ended by printing where its living documentation and cucumber report are

Feature: npm test brings the browser its living-documentation test needs
  The living documentation is checked the way a reader sees it: rendered by
  a headless Chrome or Chromium. `npm test` and `npm start` make sure there is
  one before the features run, so that the README's two commands are all the
  set-up a fresh machine needs. A browser already on the machine is used: the
  one named by `CHROME_PATH` (or `CHROMIUM_PATH`, `PUPPETEER_EXECUTABLE_PATH`,
  `CHROME_BIN`), else `chromium`, `chromium-browser`, `google-chrome`,
  `google-chrome-stable` or `chrome` on the PATH, else one where Debian,
  macOS, Windows or Google install it. Where there is none, Debian's
  `chromium` is installed with apt-get — on Debian, as root. Anywhere else the
  run says in one sentence why it cannot and what to do, and the
  living-documentation test fails with that sentence: the check is never
  skipped.

  Rule: A browser already on the machine is used, and nothing is installed

    Scenario: CHROME_PATH names the browser
      Given a browser executable at a path of its own
      And no browser on the search path
      When the test setup runs with CHROME_PATH naming that browser
      Then the setup uses that browser, found via "CHROME_PATH"
      And the setup installs nothing

    Scenario: A browser on the search path as google-chrome
      Given a browser executable named "google-chrome" on the search path
      When the test setup runs
      Then the setup uses that browser, found via "EVENTFOLD_BROWSER_SEARCH_PATH"
      And the setup installs nothing

    Scenario: CHROME_PATH naming a file that is not there is refused in one sentence
      Given no browser on the search path
      When the test setup runs with CHROME_PATH naming a file that does not exist
      Then the setup says in one sentence that CHROME_PATH is not an executable file
      And the setup installs nothing

  Rule: Without a browser, Debian's chromium is installed as root — or one sentence says why not

    Scenario Outline: On <machine>, a machine without a browser <outcome>
      Given a machine running <system>, <apt-get>, as <user>, without a browser
      When the test setup decides how to get a browser
      Then it <outcome>

      Examples:
        | machine                | system            | apt-get               | user        | outcome                                                 |
        | Debian as root         | Debian            | with apt-get          | root        | runs "apt-get update" then "apt-get install chromium"   |
        | Debian as another user | Debian            | with apt-get          | another user| says in one sentence to run "sudo apt-get install chromium" |
        | Debian without apt-get | Debian            | without apt-get       | root        | says in one sentence that apt-get is not on PATH        |
        | Ubuntu                 | Ubuntu            | with apt-get          | root        | says in one sentence that this is not Debian            |
        | macOS                  | macOS             | without apt-get       | another user| says in one sentence to install Google Chrome or Chromium |

    Scenario: This machine without a browser: a dry run shows what the setup would do
      Given no browser on the search path
      When the test setup runs as a dry run
      Then it prints what the decision for this machine says: the apt-get commands, or the one sentence

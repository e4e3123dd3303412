// Cucumber formatter that writes the living documentation (reports/index.html)
// at the end of every run, from the run's own messages and the message files
// of the same run on the other event logs (reports/cucumber-<log>.ndjson).
// Any cucumber-js run can use it:
//   --format ./steps/report/living-doc-formatter.cjs:reports/index.html
//   --format-options '{"eventfold":{"reports":"reports","messages":"cucumber.ndjson"}}'
// eventfold.reports: the folder of this run's messages, bench.json and
// history.ndjson (default: the folder of the page); eventfold.messages: the
// message file this run writes there (default cucumber.ndjson; its name, or
// the folder's — postgres/ — names the log: cucumber-postgres.ndjson is
// PostgreSQL); eventfold.history: false to leave the history alone;
// eventfold.announce: false not to print where the reports are at the end.
// The other logs' message files of the same run (cucumber-<log>.ndjson beside
// this one, <log>/cucumber.ndjson below it, or the parent's cucumber.ndjson
// when this run writes into a log's folder) are shown beside this run's; one
// that started before this run is an earlier run's: it is named, not shown.
// When cucumber stops before the end of the run (a failing BeforeAll or
// AfterAll hook exits the process), the page is still written, saying so.
const { Formatter } = require('@cucumber/cucumber');
const { writeFileSync } = require('node:fs');
const path = require('node:path');

if (!process[Symbol.for('ts-node.register.instance')]) {
  require('ts-node').register({ transpileOnly: true });
}
const { renderLivingDoc, defaultMetadata } = require('./living-doc.ts');
const { buildRun } = require('./run-model.ts');
const { isLogFolder, labelOf, messageFilesIn, readMessages, MAIN_MESSAGE_FILE } = require('./messages.ts');
const { readBench } = require('./bench.ts');
const { appendHistory, entryOf, readHistory, HISTORY_FILE } = require('./history.ts');

const ROOT = path.join(__dirname, '..', '..');

class LivingDocFormatter extends Formatter {
  constructor(options) {
    super(options);
    const settings = options.parsedArgvOptions?.eventfold ?? {};
    const page = typeof options.stream?.path === 'string' ? path.resolve(options.cwd ?? '.', options.stream.path) : undefined;
    const reports = settings.reports ? path.resolve(options.cwd ?? '.', settings.reports) : page && path.dirname(page);
    const messages = settings.messages ?? MAIN_MESSAGE_FILE;
    const envelopes = [];
    const write = (atExit) => {
      process.removeListener('exit', this.pageAtExit);
      const html = render(envelopes, { reports, messages, history: settings.history !== false });
      if (atExit && page) writeFileSync(page, html);
      else this.log(html);
    };
    options.eventBroadcaster.on('envelope', (envelope) => {
      envelopes.push(envelope);
      if (envelope.testRunFinished) {
        write(false);
        if (settings.announce !== false) printReportPaths(options, messages);
      }
    });
    /** cucumber exits without a testRunFinished when a BeforeAll/AfterAll hook fails: the page still says what happened. */
    this.pageAtExit = () => {
      try {
        write(true);
      } catch (error) {
        process.stderr.write(`The living documentation could not be written: ${error.stack ?? error}\n`);
      }
    };
    process.once('exit', this.pageAtExit);
  }
}

/** The page for this run's envelopes, beside the other logs' runs found in `reports`. */
function render(envelopes, { reports, messages, history }) {
  const meta = defaultMetadata(ROOT);
  const ownPath = reports ? path.join(reports, messages) : messages;
  const own = buildRun(envelopes, labelOf(ownPath));
  const runs = [own];
  // A run writing into a log's own folder (reports/postgres/) belongs to the run of the folder above.
  const root = reports && isLogFolder(path.basename(reports)) ? path.dirname(reports) : reports;
  for (const file of root ? messageFilesIn(root) : []) {
    if (path.resolve(file.path) === path.resolve(ownPath) || file.label === own.label) continue;
    try {
      const other = buildRun(readMessages(file.path), file.label);
      if (own.started !== undefined && other.started !== undefined && other.started < own.started && file.label !== 'file log') {
        meta.leftOut.push(`${file.label}: ${path.relative(root, file.path)} is from an earlier run (${new Date(other.started * 1000).toISOString()})`);
        continue;
      }
      runs.push(other);
    } catch (error) {
      own.problems.push({ title: `The ${file.label} run could not be read`, message: String(error.message ?? error), where: file.path });
    }
  }
  runs.sort((a, b) => (a.label === 'file log' ? -1 : b.label === 'file log' ? 1 : a.label.localeCompare(b.label)));
  const bench = reports ? readBench(path.join(reports, 'bench.json')) : undefined;
  let entries;
  if (reports && history) {
    const file = path.join(reports, HISTORY_FILE);
    entries = appendHistory(file, entryOf(own, meta, bench, readHistory(file)));
  }
  return renderLivingDoc({ runs, meta, bench, history: entries });
}

/** Ends every run, passed or failed, with where its reports are (formatOptions.eventfold.reports, from steps/cucumber.cjs). */
function printReportPaths(options, messages) {
  const reports = options.parsedArgvOptions?.eventfold?.reports;
  if (!reports) return;
  const dir = path.resolve(options.cwd, reports);
  const cucumberHtml = messages.replace(/\.ndjson$/, '.html');
  process.stdout.write(`\nLiving documentation: ${path.join(dir, 'index.html')}\nCucumber report:      ${path.join(dir, cucumberHtml)}\n`);
}

LivingDocFormatter.documentation = 'eventfold living documentation (one self-contained HTML page)';
module.exports = LivingDocFormatter;

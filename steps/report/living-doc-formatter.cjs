// Cucumber formatter that writes the living documentation (reports/index.html)
// at the end of every run, from the run's own message stream.
const { Formatter } = require('@cucumber/cucumber');
const path = require('node:path');

if (!process[Symbol.for('ts-node.register.instance')]) {
  require('ts-node').register({ transpileOnly: true });
}
const { renderLivingDoc, defaultMetadata } = require('./living-doc.ts');

class LivingDocFormatter extends Formatter {
  constructor(options) {
    super(options);
    const envelopes = [];
    options.eventBroadcaster.on('envelope', (envelope) => {
      envelopes.push(envelope);
      if (envelope.testRunFinished) {
        this.log(renderLivingDoc(envelopes, defaultMetadata(path.join(__dirname, '..', '..'))));
        printReportPaths(options);
      }
    });
  }
}

/** Ends every run, passed or failed, with where its reports are (formatOptions.eventfold.reports, from steps/cucumber.cjs). */
function printReportPaths(options) {
  const reports = options.parsedArgvOptions?.eventfold?.reports;
  if (!reports) return;
  const dir = path.resolve(options.cwd, reports);
  process.stdout.write(`\nLiving documentation: ${path.join(dir, 'index.html')}\nCucumber report:      ${path.join(dir, 'cucumber.html')}\n`);
}

LivingDocFormatter.documentation = 'eventfold living documentation (one self-contained HTML page)';
module.exports = LivingDocFormatter;

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
      }
    });
  }
}

LivingDocFormatter.documentation = 'eventfold living documentation (one self-contained HTML page)';
module.exports = LivingDocFormatter;

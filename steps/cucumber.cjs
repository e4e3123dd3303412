// Cucumber profiles. `npm test` = default; `npm start` = fast; heavy runs have their own.
const common = {
  requireModule: ['ts-node/register/transpile-only'],
  require: ['steps/support/world.ts', 'steps/**/*.steps.ts'],
  paths: ['features/**/*.feature'],
  format: [
    'progress',
    'html:reports/cucumber.html',
    'message:reports/cucumber.ndjson',
    'junit:reports/junit.xml',
  ],
};

module.exports = {
  // Everything but the long soak and full-scale runs.
  default: { ...common, tags: 'not @soak and not @100m' },
  // The quick tour: skips the scenarios tagged @slow as well.
  fast: { ...common, tags: 'not @soak and not @100m and not @slow' },
  // Many rounds of real SIGKILL crashes.
  soak: { ...common, tags: '@soak' },
};

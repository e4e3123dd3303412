// Cucumber profiles. `npm test` = default; `npm start` = fast; heavy runs have their own.
// Reports go to reports/ (or EVENTFOLD_REPORTS_DIR, used by the report's own test).
const out = process.env.EVENTFOLD_REPORTS_DIR || 'reports';
// The test run (and the processes it starts) overwrites an arena slab's bytes when it is reused: a piece read or
// written after it was given back shows up as a failed record check (src/log/arena.ts).
process.env.EVENTFOLD_ARENA_CHECKS ??= '1';
/**
 * The reports of one cucumber run. A run of the features on another event log
 * passes the log's name (e.g. `...reports('postgres')`): its messages go to
 * cucumber-<log>.ndjson, and the living documentation (one index.html for the
 * whole run) shows each scenario with a verdict per log, labelled from that
 * name (steps/report/messages.ts). steps/report/count-results.ts counts every
 * reports/cucumber*.ndjson.
 */
function reports(log) {
  const suffix = log ? `-${log}` : '';
  return {
    format: [
      'progress',
      `html:${out}/cucumber${suffix}.html`,
      `message:${out}/cucumber${suffix}.ndjson`,
      `junit:${out}/junit${suffix}.xml`,
      `./steps/report/living-doc-formatter.cjs:${out}/index.html`,
    ],
    // The living-doc formatter reads the other logs' messages, bench.json and history.ndjson from `reports`,
    // and ends the run by printing where the reports are.
    formatOptions: { eventfold: { reports: out, messages: `cucumber${suffix}.ndjson` } },
  };
}

const common = {
  requireModule: ['ts-node/register/transpile-only'],
  require: ['steps/support/world.ts', 'steps/**/*.steps.ts'],
  // EVENTFOLD_FEATURE_PATHS (comma-separated) narrows a run; the report's own test uses it.
  paths: process.env.EVENTFOLD_FEATURE_PATHS ? process.env.EVENTFOLD_FEATURE_PATHS.split(',') : ['features/**/*.feature'],
  ...reports(),
};

// The features that describe the API's behaviour, run a second time on PostgreSQL
// (a throwaway cluster, one database per scenario: steps/support/postgres.ts).
// Scenarios tagged @file-only describe files (segments, the simulated disk,
// directories, the lock) and stay on the file run.
const POSTGRES_FEATURES = [
  'features/storage',
  'features/input/bad-input.feature',
  'features/input/data-model.feature',
  'features/input/the-store-keeps-what-it-checked.feature',
  'features/state',
  'features/subscriptions',
  'features/concurrency',
  'features/lifecycle',
  'features/emmett/emmett-event-store.feature',
  'features/postgres',
];
const postgres = {
  ...common,
  paths: process.env.EVENTFOLD_FEATURE_PATHS ? process.env.EVENTFOLD_FEATURE_PATHS.split(',') : POSTGRES_FEATURES,
  tags: 'not @file-only and not @soak and not @slow and not @gigabyte',
  worldParameters: { log: 'postgres' },
  ...reports('postgres'),
};

module.exports = {
  // Everything but the long soak, the 1 GB scavenge and the PostgreSQL-only features (profile postgres); the @scale run at EVENTFOLD_SCALE (default 1,000,000 events).
  default: { ...common, tags: 'not @soak and not @postgres and not @gigabyte' },
  // The quick tour: skips the scenarios tagged @slow as well.
  fast: { ...common, tags: 'not @soak and not @slow and not @postgres and not @gigabyte' },
  // The 1 GB scavenge (`npm run features:scavenge-1gb`).
  gigabyte: { ...common, tags: '@gigabyte' },
  // Only the scale run: `npm run features:100m` sets EVENTFOLD_SCALE=100000000.
  scale: { ...common, tags: '@scale' },
  // Many rounds of real SIGKILL crashes.
  soak: { ...common, tags: '@soak' },
  // The API's features on PostgreSQL (npm test runs it after the default run).
  postgres,
};

// Prints "N passed, N failed" for a run of the features, from its own message
// streams: the files named, else every reports/cucumber*.ndjson (one per event
// log the features ran on). Scenarios count once per log they ran on; a run
// problem (a feature file not parsed, a failing BeforeAll/AfterAll hook, a
// run that never reported its end) counts as a failure. Exits 1 when anything failed.
import { labelOf, messageFilesIn, readMessages, type MessageFile } from './messages';
import { buildRun } from './run-model';

const files: MessageFile[] = process.argv.length > 2 ? process.argv.slice(2).map((path) => ({ path, label: labelOf(path) })) : messageFilesIn('reports');
const counts = files.map((file) => {
  const run = buildRun(readMessages(file.path), file.label);
  const passed = run.scenarios.filter((s) => s.run.verdict === 'PASSED').length;
  return { label: file.label, passed, failed: run.scenarios.length - passed + run.problems.length };
});
const passed = counts.reduce((sum, c) => sum + c.passed, 0);
const failed = counts.reduce((sum, c) => sum + c.failed, 0) + (files.length === 0 ? 1 : 0);
// One line per log first when there are several; the last line is always exactly "N passed, N failed" (what CI reads).
if (counts.length > 1) for (const c of counts) console.log(`${c.label}: ${c.passed} passed, ${c.failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;

// Run by `npm test` and `npm start` before the features: makes sure the
// living-documentation test has a browser. Uses one already there; else, as
// root on Debian, installs Debian's chromium with apt-get; else says in one
// sentence why it cannot (the test then fails with the same sentence).
// `--dry-run` prints the commands instead of running them.
import { spawnSync } from 'node:child_process';
import { findBrowser, installPlan, machineFacts, noBrowserSentence } from './browser';

function main(): number {
  const dryRun = process.argv.includes('--dry-run');
  let found;
  try {
    found = findBrowser();
  } catch (error) {
    console.error((error as Error).message);
    return 0;
  }
  if (found) {
    console.log(`Browser for the living documentation: ${found.path} (found via ${found.via})`);
    return 0;
  }
  const plan = installPlan(machineFacts());
  if ('impossible' in plan) {
    console.error(plan.impossible);
    return 0;
  }
  console.log(`No Chrome or Chromium found: installing Debian's chromium for the living-documentation test${dryRun ? ' (dry run)' : ''}:`);
  for (const command of plan.commands) {
    console.log(`  ${command.join(' ')}`);
    if (dryRun) continue;
    const run = spawnSync(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run.status !== 0) {
      console.error(`"${command.join(' ')}" failed (${run.error?.message ?? `exit code ${run.status}`}): the living-documentation test will fail until Chromium is installed.`);
      return 0;
    }
  }
  if (dryRun) return 0;
  const installed = findBrowser();
  if (installed) console.log(`Browser for the living documentation: ${installed.path} (installed)`);
  else console.error(noBrowserSentence());
  return 0;
}

process.exitCode = main();

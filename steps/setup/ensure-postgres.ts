// Run by `npm test` before the PostgreSQL run of the features: makes sure
// PostgreSQL's server binaries are there for its throwaway cluster. Uses the
// ones found (see postgres-server.ts); else, as root on Debian, installs
// Debian's postgresql with apt-get; else says in one sentence why it cannot
// (the PostgreSQL run then fails with the same sentence). A run pointed at a
// server of its own (EVENTFOLD_POSTGRES_URL) needs no binaries.
// `--dry-run` prints the commands instead of running them.
import { spawnSync } from 'node:child_process';
import { findServerBinaries, noServerSentence, postgresInstallPlan } from './postgres-server';

function main(): number {
  const dryRun = process.argv.includes('--dry-run');
  if (process.env.EVENTFOLD_POSTGRES_URL) {
    console.log(`PostgreSQL for the PostgreSQL scenarios: ${process.env.EVENTFOLD_POSTGRES_URL.replace(/:[^:@/]*@/, ':***@')} (EVENTFOLD_POSTGRES_URL)`);
    return 0;
  }
  const found = findServerBinaries();
  if (found) {
    console.log(`PostgreSQL server binaries for the PostgreSQL scenarios: ${found}`);
    return 0;
  }
  const plan = postgresInstallPlan();
  if ('impossible' in plan) {
    console.error(plan.impossible);
    return 0;
  }
  console.log(`No PostgreSQL server found: installing Debian's postgresql for the PostgreSQL scenarios${dryRun ? ' (dry run)' : ''}:`);
  for (const command of plan.commands) {
    console.log(`  ${command.join(' ')}`);
    if (dryRun) continue;
    const run = spawnSync(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run.status !== 0) {
      console.error(`"${command.join(' ')}" failed (${run.error?.message ?? `exit code ${run.status}`}): the PostgreSQL scenarios will fail until PostgreSQL is installed.`);
      return 0;
    }
  }
  if (dryRun) return 0;
  const installed = findServerBinaries();
  if (installed) console.log(`PostgreSQL server binaries for the PostgreSQL scenarios: ${installed} (installed)`);
  else console.error(noServerSentence());
  return 0;
}

process.exitCode = main();

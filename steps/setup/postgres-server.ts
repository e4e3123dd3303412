// Finds PostgreSQL's server binaries (initdb, pg_ctl, postgres) for the test
// cluster, and says how to get them where there are none: as root on Debian,
// Debian's `postgresql` package with apt-get. Used by `npm test`'s setup
// (ensure-postgres.ts) and by the cluster the PostgreSQL run starts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isExecutableFile, machineFacts, type MachineFacts } from './browser';

/** The programs a throwaway cluster needs. */
export const SERVER_PROGRAMS = ['initdb', 'pg_ctl', 'postgres'];

/** A directory holding every program of SERVER_PROGRAMS. */
function holdsServer(dir: string): boolean {
  return SERVER_PROGRAMS.every((program) => isExecutableFile(join(dir, program)));
}

/**
 * The directory of the server binaries: `pg_config --bindir` (what the issue
 * names), else the newest of Debian's /usr/lib/postgresql/<major>/bin.
 * EVENTFOLD_PG_BINDIR overrides both.
 */
export function findServerBinaries(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.EVENTFOLD_PG_BINDIR) return holdsServer(env.EVENTFOLD_PG_BINDIR) ? env.EVENTFOLD_PG_BINDIR : undefined;
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const bindir = pgConfig.status === 0 ? pgConfig.stdout.trim() : '';
  if (bindir && holdsServer(bindir)) return bindir;
  let majors: string[] = [];
  try {
    majors = readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  majors.sort((a, b) => Number(b) - Number(a));
  return majors.map((major) => `/usr/lib/postgresql/${major}/bin`).find(holdsServer);
}

/** The commands that install Debian's PostgreSQL server (run as root, without questions). */
export const APT_INSTALL_POSTGRES: string[][] = [
  ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'],
  ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', 'postgresql'],
];

const NONE = `No PostgreSQL server binaries (${SERVER_PROGRAMS.join(', ')}) were found for the PostgreSQL scenarios (looked at EVENTFOLD_PG_BINDIR, "pg_config --bindir" and /usr/lib/postgresql/*/bin)`;

/** Whether, and how, the server can be installed here: only Debian's package, with apt-get, as root. */
export function postgresInstallPlan(facts: MachineFacts = machineFacts()): { commands: string[][] } | { impossible: string } {
  if (facts.platform !== 'linux' || facts.distribution !== 'debian') return { impossible: `${NONE}: install PostgreSQL's server with your package manager, or set EVENTFOLD_POSTGRES_URL to a server the tests may create databases on.` };
  if (!facts.aptGet) return { impossible: `${NONE}, and apt-get is not on PATH to install Debian's postgresql: install it, or set EVENTFOLD_POSTGRES_URL.` };
  if (!facts.root) return { impossible: `${NONE}, and installing Debian's postgresql needs root: run "sudo apt-get install postgresql" once, or set EVENTFOLD_POSTGRES_URL.` };
  return { commands: APT_INSTALL_POSTGRES };
}

/** The sentence a PostgreSQL run without a server ends with. */
export function noServerSentence(): string {
  const plan = postgresInstallPlan();
  return 'impossible' in plan ? plan.impossible : `${NONE}: npm test installs Debian's postgresql when it runs as root; run it (or "apt-get install postgresql") again.`;
}

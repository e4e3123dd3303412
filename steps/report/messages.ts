import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** One parsed line of cucumber's message (ndjson) output. */
export type Envelope = Record<string, any>;

/**
 * The envelopes of a message file. A run that was killed can leave a last
 * line cut short: it is dropped (the run shows as unfinished) rather than
 * failing the whole report.
 */
export function readMessages(path: string): Envelope[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
  const envelopes: Envelope[] = [];
  lines.forEach((line, i) => {
    try {
      envelopes.push(JSON.parse(line) as Envelope);
    } catch (error) {
      if (i !== lines.length - 1) throw new Error(`${path}: line ${i + 1} is not a message: ${(error as Error).message}`);
    }
  });
  return envelopes;
}

/**
 * A run of the features is one or more cucumber runs, one per event log the
 * API features ran on, each writing its own message file under reports/:
 * `cucumber.ndjson` (the file log) and, for each other log, either
 * `cucumber-<log>.ndjson` beside it or `<log>/cucumber.ndjson` in a folder of
 * its own (`cucumber-postgres.ndjson` or `postgres/cucumber.ndjson`:
 * PostgreSQL). The label says which log.
 */
export interface MessageFile {
  label: string;
  path: string;
}

export const MAIN_MESSAGE_FILE = 'cucumber.ndjson';

/** Names of the logs as people write them; a log not listed is named by its file's suffix or folder. */
const LOG_LABELS: Record<string, string> = { '': 'file log', postgres: 'PostgreSQL', postgresql: 'PostgreSQL' };

/** Whether a folder under reports/ is another log's (postgres/ is PostgreSQL's). */
export function isLogFolder(name: string): boolean {
  return name !== '' && Object.hasOwn(LOG_LABELS, name.toLowerCase());
}

export function labelOf(messageFile: string): string {
  const name = basename(messageFile);
  const folder = basename(dirname(messageFile));
  if (name === MAIN_MESSAGE_FILE && isLogFolder(folder)) return LOG_LABELS[folder.toLowerCase()];
  const suffix = /^cucumber(?:-(.+))?\.ndjson$/.exec(name)?.[1] ?? '';
  return LOG_LABELS[suffix.toLowerCase()] ?? suffix;
}

/** The message files of the run in `dir`: cucumber.ndjson first, then the other logs' (beside it, or in a log's folder) by name. */
export function messageFilesIn(dir: string): MessageFile[] {
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir, { withFileTypes: true });
  const beside = entries.filter((e) => e.isFile() && /^cucumber(-.+)?\.ndjson$/.test(e.name)).map((e) => join(dir, e.name));
  const inFolders = entries.filter((e) => e.isDirectory() && isLogFolder(e.name) && existsSync(join(dir, e.name, MAIN_MESSAGE_FILE))).map((e) => join(dir, e.name, MAIN_MESSAGE_FILE));
  const main = join(dir, MAIN_MESSAGE_FILE);
  return [...beside, ...inFolders]
    .sort((a, b) => (a === main ? -1 : b === main ? 1 : a.localeCompare(b)))
    .map((path) => ({ label: labelOf(path), path }));
}

/** Statuses from best to worst: a test case's verdict is its worst step's. */
export const SEVERITY = ['PASSED', 'SKIPPED', 'PENDING', 'UNDEFINED', 'AMBIGUOUS', 'UNKNOWN', 'FAILED'];

export function worse(a: string, b: string): string {
  const rank = (status: string) => (SEVERITY.includes(status) ? SEVERITY.indexOf(status) : SEVERITY.indexOf('UNKNOWN'));
  return rank(b) > rank(a) ? b : a;
}

/**
 * The verdict of every test case that ran (earlier attempts of a retried one
 * excluded), keyed by testCaseStarted id. A test case that started but never
 * finished (the run was killed) is UNKNOWN, never PASSED.
 */
export function verdicts(messages: Envelope[]): Map<string, string> {
  const worst = new Map<string, string>();
  const retried = new Set<string>();
  const finished = new Set<string>();
  for (const m of messages) {
    if (m.testCaseStarted) worst.set(m.testCaseStarted.id, 'PASSED');
    if (m.testStepFinished) {
      const id = m.testStepFinished.testCaseStartedId;
      worst.set(id, worse(worst.get(id) ?? 'PASSED', m.testStepFinished.testStepResult?.status ?? 'UNKNOWN'));
    }
    if (m.testCaseFinished) {
      finished.add(m.testCaseFinished.testCaseStartedId);
      if (m.testCaseFinished.willBeRetried) retried.add(m.testCaseFinished.testCaseStartedId);
    }
  }
  for (const id of worst.keys()) if (!finished.has(id)) worst.set(id, 'UNKNOWN');
  for (const id of retried) worst.delete(id);
  return worst;
}

import { readFileSync } from 'node:fs';

/** One parsed line of cucumber's message (ndjson) output. */
export type Envelope = Record<string, any>;

export function readMessages(path: string): Envelope[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Envelope);
}

const SEVERITY = ['UNKNOWN', 'PASSED', 'SKIPPED', 'PENDING', 'UNDEFINED', 'AMBIGUOUS', 'FAILED'];

/** The verdict of every test case that ran (retries excluded), keyed by testCaseStarted id. */
export function verdicts(messages: Envelope[]): Map<string, string> {
  const worst = new Map<string, string>();
  const retried = new Set<string>();
  for (const m of messages) {
    if (m.testCaseStarted) worst.set(m.testCaseStarted.id, 'PASSED');
    if (m.testStepFinished) {
      const id = m.testStepFinished.testCaseStartedId;
      const status = m.testStepFinished.testStepResult.status;
      if (SEVERITY.indexOf(status) > SEVERITY.indexOf(worst.get(id) ?? 'PASSED')) worst.set(id, status);
    }
    if (m.testCaseFinished?.willBeRetried) retried.add(m.testCaseFinished.testCaseStartedId);
  }
  for (const id of retried) worst.delete(id);
  return worst;
}

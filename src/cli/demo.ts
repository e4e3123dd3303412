// `eventfold demo [dir]`: a one-minute tour for a newcomer. Appends with a
// progress bar, lets a child process append and kills it with SIGKILL (a real
// crash), reopens and prints the recovery report, reads the state back, then
// checkpoints and shows the reopen that follows.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { EventStore } from '../store';
import type { Projection } from '../api';
import { progressBar } from './progress';

const ACCOUNTS = 1000;
const FIRST_DEPOSITS = 100_000;
const PER_APPEND = 100;

interface Totals {
  deposits: number;
  amount: number;
  balances: Record<string, number>;
}

type DemoEvent = { type: 'Deposited'; data: { amount: number } };

const totals: Projection<Totals, DemoEvent> = {
  version: 1,
  initialState: { deposits: 0, amount: 0, balances: {} },
  evolve(draft, event) {
    const amount = event.data.amount;
    draft.deposits++;
    draft.amount += amount;
    draft.balances[event.stream] = (draft.balances[event.stream] ?? 0) + amount;
  },
};

function deposits(first: number, count: number): DemoEvent[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'Deposited' as const, data: { amount: ((first + i) % 50) + 1 } }));
}

export async function runDemo(dirArg: string | undefined, log: (line: string) => void): Promise<void> {
  const dir = dirArg ? resolve(dirArg) : mkdtempSync(join(tmpdir(), 'eventfold-demo-'));
  log(`eventfold demo in ${dir}\n`);
  try {
    log(`1/5  Appending ${FIRST_DEPOSITS.toLocaleString('en-US')} deposits to ${ACCOUNTS} accounts, ${PER_APPEND} per append, each append durable (fsync) before it is acknowledged.`);
    let store = await EventStore.open(dir, { projections: { totals }, snapshotEvery: 0 });
    const bar = progressBar('     appending', FIRST_DEPOSITS, 'events');
    let started = performance.now();
    const inFlight: Array<Promise<unknown>> = [];
    for (let first = 0, i = 0; first < FIRST_DEPOSITS; first += PER_APPEND, i++) {
      if (inFlight.length >= 64) await inFlight.shift();
      inFlight.push(store.append(`account-${i % ACCOUNTS}`, deposits(first, PER_APPEND)).then(() => bar.update(first + PER_APPEND)));
    }
    await Promise.all(inFlight);
    bar.stop();
    log(`     done: ${FIRST_DEPOSITS.toLocaleString('en-US')} events in ${Math.round(performance.now() - started)} ms; the store is at position ${store.position}.`);
    await store.close();

    log('\n2/5  A second process appends one deposit at a time, and is killed with SIGKILL mid-flight: a real crash.');
    const lastAcknowledged = await crashAWriter(dir);
    log(`     the writer was killed after position ${lastAcknowledged} was acknowledged.`);

    log('\n3/5  Reopening the store runs recovery:');
    started = performance.now();
    store = await EventStore.open(dir, { projections: { totals } });
    const r = store.recovery;
    log(`     last shutdown clean: ${r.cleanShutdown ? 'yes' : 'no'}; previous owner that never closed: ${r.staleLockOwner === null ? '—' : `pid ${r.staleLockOwner}`}`);
    log(`     events recovered: ${r.eventsRecovered.toLocaleString('en-US')} (replayed ${r.eventsReplayed.toLocaleString('en-US')}, in ${Math.round(r.durationMs)} ms)`);
    log(`     torn tail: ${r.tornTail ? `${r.tornTail.bytesTruncated} bytes of an unacknowledged append cut at ${r.tornTail.file} offset ${r.tornTail.offset}` : 'none'}`);
    const kept = store.position >= lastAcknowledged;
    log(`     every acknowledged event is there: ${kept ? 'yes' : 'NO'} (last position ${store.position}, last acknowledged ${lastAcknowledged})`);
    if (!kept) throw new Error('an acknowledged event was lost');

    log('\n4/5  State, folded by a projection and read synchronously:');
    const state = store.state('totals');
    log(`     ${state.deposits.toLocaleString('en-US')} deposits, ${state.amount.toLocaleString('en-US')} in total; account-7 holds ${state.balances['account-7']}`);
    log('     the last 3 events of account-7:');
    for await (const e of store.readStream('account-7', { direction: 'backward', limit: 3 })) {
      log(`       position ${e.position}, version ${e.version}: ${e.type} ${JSON.stringify(e.data)}`);
    }

    log('\n5/5  A checkpoint writes a snapshot; the next open replays only what follows it.');
    const snapshot = await store.checkpoint();
    await store.append('account-7', deposits(0, 10));
    await store.close();
    store = await EventStore.open(dir, { projections: { totals } });
    log(`     ${snapshot!.file} covers positions 0 to ${snapshot!.position}; the reopen replayed ${store.recovery.eventsReplayed} events in ${Math.round(store.recovery.durationMs)} ms.`);
    await store.close();
    log(`\nInspect it yourself: eventfold info ${dir}   ·   eventfold verify ${dir}`);
  } finally {
    if (!dirArg) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `eventfold demo-writer <dir>` in a child process and kills it once it has acknowledged 5,000 appends. */
function crashAWriter(dir: string): Promise<number> {
  return new Promise((resolvePosition, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'demo-writer', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = -1;
    let acks = 0;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^ack (\d+)$/.exec(line);
      if (!match) return;
      last = Math.max(last, Number(match[1]));
      if (++acks === 5000) child.kill('SIGKILL');
    });
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolvePosition(last) : reject(new Error(`the writer stopped on its own (${signal ?? _code})`))));
  });
}

/** The child of step 2: appends single deposits from 100 concurrent callers forever, printing each acknowledged position. */
export async function runDemoWriter(dir: string): Promise<void> {
  const store = await EventStore.open(dir, { projections: { totals }, snapshotEvery: 0 });
  await Promise.all(
    Array.from({ length: 100 }, async (_, caller) => {
      for (let n = 0; ; n++) {
        const { position } = await store.append(`account-${caller}`, deposits(n, 1));
        process.stdout.write(`ack ${position}\n`);
      }
    }),
  );
}

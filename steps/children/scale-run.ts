// The working process of the scale run (features/scale). Two modes:
//   append <dir> <events> [<announce>]
//                          appends the workload from where the store ends to <events>,
//                          printing "ack <position>" now and then — and at once when
//                          <announce> events are acknowledged — then checkpoints and closes.
//   verify <dir> <events>  reopens (timed), reads every event back and checks it, reads a
//                          sample of 1,000 streams, checks the projection, and closes.
// Progress goes to stderr; the last stdout line is a JSON object of figures.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore } from '../../src/index';
import { EVENTS_PER_APPEND, eventAt, expectedTotals, ReadBackCheck, scaleWorkload, streamOfAppend, totalsProjection, type ScaleWorkload } from '../support/scale-workload';

const IN_FLIGHT_APPENDS = 2000;
/** Events read back between two progress reports. */
const REPORT_EVERY = 5_000_000;
const projections = { totals: totalsProjection };

function progress(label: string, done: number, total: number, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  const rate = done / seconds;
  const eta = rate > 0 ? (total - done) / rate : 0;
  process.stderr.write(`  ${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events, ${Math.round(rate).toLocaleString('en-US')} events/s, ETA ${Math.round(eta)} s\n`);
}

function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function append(dir: string, w: ScaleWorkload, announceAt = Infinity): Promise<Record<string, number>> {
  const store = await EventStore.open(dir, { projections, snapshotEvery: 10_000_000 });
  const resumedAt = store.position + 1;
  process.stdout.write(`resumed ${resumedAt} ${store.recovery.eventsReplayed}\n`);
  const started = performance.now();
  let lastReport = started;
  const ring: Array<Promise<{ position: number }>> = [];
  let acknowledged = resumedAt - 1;
  const settle = async () => {
    acknowledged = (await ring.shift()!).position;
    const now = performance.now();
    const announce = acknowledged + 1 >= announceAt;
    if (announce) announceAt = Infinity;
    if (announce || now - lastReport > 2000) {
      lastReport = now;
      process.stdout.write(`ack ${acknowledged}\n`);
      progress('appended', acknowledged + 1 - resumedAt, w.events - resumedAt, started);
    }
  };
  for (let i = resumedAt / EVENTS_PER_APPEND; i < w.appends; i++) {
    if (ring.length >= IN_FLIGHT_APPENDS) await settle();
    const events = [];
    for (let p = i * EVENTS_PER_APPEND; p < (i + 1) * EVENTS_PER_APPEND; p++) events.push(eventAt(p));
    ring.push(store.append(streamOfAppend(w, i), events));
  }
  while (ring.length > 0) await settle();
  const appendSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`ack ${acknowledged}\n`);
  await store.checkpoint();
  await store.close();
  return { appendedEvents: w.events - resumedAt, appendRate: (w.events - resumedAt) / appendSeconds, appendPeakRssBytes: peakRssBytes() };
}

async function verify(dir: string, w: ScaleWorkload): Promise<Record<string, number>> {
  let started = performance.now();
  const store = await EventStore.open(dir, { projections });
  const reopenMs = performance.now() - started;
  if (store.position !== w.events - 1) throw new Error(`the store holds ${store.position + 1} events, ${w.events} were appended`);

  started = performance.now();
  let expected = 0;
  let nextReport = REPORT_EVERY;
  const check = new ReadBackCheck(w);
  // A page at a time (one promise per page, not per event); every event of every page is checked.
  for await (const page of store.readAllPages()) {
    for (const event of page) {
      const wrong = check.mismatch(event, expected);
      if (wrong) throw new Error(wrong);
      expected++;
    }
    if (expected >= nextReport) {
      progress('read back', expected, w.events, started);
      nextReport += REPORT_EVERY;
    }
  }
  const readSeconds = (performance.now() - started) / 1000;
  if (expected !== w.events) throw new Error(`read back ${expected} events, ${w.events} were appended`);

  started = performance.now();
  let sampledEvents = 0;
  for (let k = 0; k < 1000; k++) {
    const first = Math.floor((k * w.streams) / 1000);
    const stream = streamOfAppend(w, first);
    let version = 0;
    for await (const event of store.readStream(stream)) {
      const append = first + Math.floor(version / EVENTS_PER_APPEND) * w.streams;
      const position = append * EVENTS_PER_APPEND + (version % EVENTS_PER_APPEND);
      if (event.version !== version || event.position !== position || (event.data as { n: number }).n !== position) {
        throw new Error(`stream ${stream} version ${version}: found position ${event.position}, expected ${position}`);
      }
      version++;
    }
    if (version !== store.streamVersion(stream) + 1 || version !== w.events / w.streams) throw new Error(`stream ${stream} read ${version} events`);
    sampledEvents += version;
  }
  const sampleMs = performance.now() - started;

  const totals = store.state('totals');
  const want = expectedTotals(w.events);
  if (JSON.stringify(totals) !== JSON.stringify(want)) throw new Error(`totals ${JSON.stringify(totals)}, expected ${JSON.stringify(want)}`);
  const replayed = store.recovery.eventsReplayed;
  // The background check of the log the snapshot covered, heads and all (close() waits for it anyway): a healthy store is never called damaged.
  const health = await store.verified();
  if (health.log !== 'verified') throw new Error(`the reopened store's check says ${health.log}: ${health.problem?.message}`);
  await store.close();
  return {
    eventsRead: expected,
    totalsEvents: totals.events,
    totalsAmount: totals.amount,
    totalsWithdrawals: totals.withdrawals,
    reopenMs,
    reopenReplayedEvents: replayed,
    readRate: w.events / readSeconds,
    sampledStreams: 1000,
    sampledEvents,
    sampleMs,
    bytesOnDisk: bytesUnder(dir),
    verifyPeakRssBytes: peakRssBytes(),
  };
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

async function main(): Promise<void> {
  const [mode, dir, eventsArg, announceArg] = process.argv.slice(2);
  const w = scaleWorkload(Number(eventsArg));
  const figures = mode === 'append' ? await append(dir, w, announceArg ? Number(announceArg) : Infinity) : await verify(dir, w);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

#!/usr/bin/env node
/**
 * The eventfold command line: look at a store directory without writing code.
 * Errors are one clear sentence on stderr and a non-zero exit.
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { StoreLockedError } from '../errors';
import { inspectStore } from '../recovery/inspect';
import { toJson } from './json';
import type { RecordedEvent } from '../api';
import { EventStore } from '../store';
import { isPostgresUrl } from '../postgres/connection';
import type { RetentionReport, StreamMetadata } from '../lifecycle/stream-metadata';
import { runBenchmark } from './bench';
import { runDemo, runDemoWriter } from './demo';
import { CliProblem, describeProblem, existingStore, pluralize, repairHint } from './problems';
import { progressBar } from './progress';

const program = new Command();
// Usage errors exit 2 like every other problem (commander's own default is 1); set before the commands so they inherit it.
program.exitOverride();
program.name('eventfold').description('Inspect, verify, read, recover and snapshot eventfold store directories; benchmark; take the tour.').version(require('../../package.json').version);

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0');
  return n;
}

/** The store directory the command was given, for the repair hint of a corruption message. */
let storeArgument: string | undefined;

function existingDir(dir: string): string {
  storeArgument = dir;
  return existingStore(dir);
}

/** Opens the store as its only writer; when another process has it open, says so plainly (exit 2). */
async function openExclusive(command: string, dir: string, options: { repair?: 'none' | 'truncate'; verifyOnOpen?: 'background' | 'full' } = {}): Promise<EventStore | undefined> {
  try {
    return await EventStore.open(existingDir(dir), options);
  } catch (error) {
    if (!(error instanceof StoreLockedError)) throw error;
    const owner = error.ownerPid === null ? 'another process' : `process ${error.ownerPid}`;
    console.error(`eventfold ${command} needs the store to itself, but ${owner} has it open: stop that process first (read, info, verify and backup work while it runs)`);
    process.exitCode = 2;
    return undefined;
  }
}

/** One event as a line of JSON: position, stream, version, type, data, metadata, id, timestamp. */
function jsonLine(e: RecordedEvent): string {
  const { position, stream, version, type, data, metadata, id, timestamp } = e;
  return toJson({ position, stream, version, type, data, metadata, id, timestamp });
}

program
  .command('verify')
  .description('Check every segment, record CRC, position and snapshot; never modifies the store. Exit 0 when healthy.')
  .argument('<dir>', 'store directory')
  .action(async (dir: string) => {
    const path = existingDir(dir);
    let bar: ReturnType<typeof progressBar> | undefined;
    const inspection = await inspectStore(path, undefined, (scanned, total) => {
      bar ??= progressBar('verifying', total, 'segments');
      bar.update(scanned);
    });
    bar?.stop();
    if (!inspection.healthy) {
      for (const problem of inspection.problems) console.error(`problem: ${problem}`);
      console.error(`${inspection.directory} is NOT healthy (${pluralize(inspection.events, 'event')} readable before the first problem); ${repairHint(dir)}`);
      process.exitCode = 2;
      return;
    }
    const torn = inspection.wouldRecover.tornTail;
    if (torn) console.log(`note: ${torn.bytesTruncated} bytes of torn tail at ${torn.file} offset ${torn.offset} (never acknowledged; the next open cuts them)`);
    console.log(
      `${inspection.directory} is healthy: ${pluralize(inspection.events, 'event')} in ${pluralize(inspection.segments.length, 'segment')} and ${pluralize(inspection.snapshots.length, 'snapshot')}, every CRC and position checked`,
    );
  });

program
  .command('info')
  .description('Segments, events, streams, positions, bytes on disk, subscriptions and the last shutdown.')
  .argument('<dir>', 'store directory')
  .option('--json', 'print JSON for machines')
  .action(async (dir: string, options: { json?: boolean }) => {
    const inspection = await inspectStore(existingDir(dir));
    const lifecycle = inspection.healthy ? await readRetention(dir) : null;
    if (options.json) {
      console.log(JSON.stringify({ ...inspection, lifecycle }, null, 2));
    } else {
      console.log(`store:          ${inspection.directory}`);
      console.log(`healthy:        ${inspection.healthy ? 'yes' : 'NO — ' + inspection.problems.join('; ')}`);
      console.log(`events:         ${inspection.events}`);
      console.log(`streams:        ${inspection.streams}`);
      console.log(`positions:      ${inspection.firstPosition === null ? 'none' : `${inspection.firstPosition} to ${inspection.lastPosition}`}`);
      console.log(`segments:       ${inspection.segments.length}`);
      console.log(`bytes on disk:  ${inspection.bytesOnDisk}`);
      console.log(`last shutdown:  ${inspection.cleanShutdown ? 'clean' : 'not clean (or still open)'}`);
      const owner = inspection.openBy;
      console.log(`open now:       ${owner ? `yes, open by ${owner.pid < 0 ? 'a process that is just starting' : `pid ${owner.pid}${owner.host ? ` on ${owner.host}` : ''} since ${owner.since}`}` : 'no'}`);
      console.log(`snapshots:      ${inspection.snapshots.map((s) => `${s.name} (${s.ok ? `position ${s.position}` : 'DAMAGED'})`).join(', ') || 'none'}`);
      console.log(`subscriptions:  ${inspection.subscriptions.map((s) => (s.position === null ? `${s.name} DAMAGED` : `${s.name} at position ${s.position}, lag ${s.lag}`)).join(', ') || 'none'}`);
      if (lifecycle) {
        const describeStream = (s: RetentionReport['streams'][number]) =>
          `${s.stream}${s.deleted ? ` (deleted${s.deleted === 'hard' ? ' for good' : ''})` : ''}${retentionText(s.metadata)}: ${s.removedEvents} events removed, ${s.removedBytes} bytes`;
        console.log(`deleted:        ${lifecycle.streams.filter((s) => s.deleted).map((s) => `${s.stream} (${s.deleted})`).join(', ') || 'none'}`);
        console.log(`retention:      ${lifecycle.streams.map(describeStream).join('; ') || 'none'}`);
        console.log(`reclaimable:    ${lifecycle.reclaimableBytes} bytes (${lifecycle.removedEvents} removed events a scavenge would take off the disk)`);
      }
    }
    if (!inspection.healthy) {
      console.error(repairHint(dir));
      process.exitCode = 2;
    }
  });

program
  .command('read')
  .description('Print events, one JSON object per line (or a short text line each). Opens the store read-only: works while a writer runs, changes nothing.')
  .argument('<dir>', 'store directory')
  .option('--stream <name>', 'read one stream instead of the whole log')
  .option('--from <n>', 'first position (or version, with --stream)', wholeNumber)
  .option('--limit <n>', 'at most this many events', wholeNumber)
  .option('--json', 'one JSON object per line: position, stream, version, type, data, metadata, id, timestamp')
  .option('--follow', 'after the last event, keep printing new ones as a writer appends them (until interrupted)')
  .action(async (dir: string, options: { stream?: string; from?: number; limit?: number; json?: boolean; follow?: boolean }) => {
    const store = await EventStore.open(existingDir(dir), { readOnly: true });
    const print = (e: RecordedEvent) => console.log(options.json ? jsonLine(e) : `${e.position}\t${e.stream}@${e.version}\t${e.type}\t${toJson(e.data)}`);
    const stop = new AbortController();
    const interrupt = () => stop.abort();
    process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
    try {
      let printed = 0;
      const limit = options.limit ?? Infinity;
      let next = 0;
      const events = options.stream
        ? store.readStream(options.stream, { from: options.from, limit })
        : store.readAll({ from: options.from, limit });
      for await (const e of events) {
        print(e);
        printed++;
        next = e.position + 1;
      }
      if (!options.follow || printed >= limit) return;
      // Follow the whole log from where the reading stopped (or the end of the stream's events), keeping the stream's own.
      if (options.stream || printed === 0) next = Math.max(next, options.stream ? store.position + 1 : (options.from ?? 0));
      for await (const e of store.follow({ from: next, signal: stop.signal })) {
        if (options.stream && e.stream !== options.stream) continue;
        print(e);
        if (++printed >= limit) break;
      }
    } finally {
      process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
      await store.close();
    }
  });

program
  .command('recover')
  .description('Open the store as its writer, running recovery, and print the recovery report. Needs the store to itself.')
  .argument('<dir>', 'store directory')
  .option('--repair <mode>', "'truncate': cut a corrupt log at the first bad record, quarantining the rest")
  .action(async (dir: string, options: { repair?: string }) => {
    if (options.repair !== undefined && options.repair !== 'truncate') throw new CliProblem(`--repair takes 'truncate', not '${options.repair}'`);
    // 'full': the log a snapshot covers is checked too, so recover agrees with verify.
    const store = await openExclusive('recover', dir, { repair: options.repair === 'truncate' ? 'truncate' : 'none', verifyOnOpen: 'full' });
    if (!store) return;
    console.log(JSON.stringify(store.recovery, null, 2));
    await store.close();
  });

program
  .command('scavenge')
  .description(
    'Take the events that retention and deletion removed off the storage (every kept event stays exactly as it was). ' +
      'A store directory: rewrites the log, giving the disk space back; needs the store to itself. ' +
      'A postgres:// URL: deletes their rows and VACUUMs, while other processes keep appending; --erase rewrites the table (VACUUM FULL).',
  )
  .argument('<store>', 'store directory, or postgres:// URL')
  .option('--erase', 'PostgreSQL: rewrite the events table so the removed events\' bytes leave its files (appends and reads wait meanwhile)')
  .action(async (target: string, options: { erase?: boolean }) => {
    const store = isPostgresUrl(target) ? await EventStore.open(target) : await openExclusive('scavenge', target);
    if (!store) return;
    const unit = isPostgresUrl(target) ? 'streams' : 'segments';
    let bar: ReturnType<typeof progressBar> | undefined;
    try {
      const result = await store.scavenge({
        erase: options.erase === true,
        onProgress: (p) => {
          bar ??= progressBar('scavenging', p.segmentsTotal, unit);
          bar.update(p.segmentsDone);
        },
      });
      bar?.stop();
      const erased = options.erase === true ? ', table rewritten' : '';
      const rewritten = unit === 'segments' ? `${result.segmentsRewritten} rewritten` : `${result.segmentsRewritten} of them had events removed${erased}`;
      const size = unit === 'segments' ? `${result.bytesBefore} bytes of log now ${result.bytesAfter}` : `events table ${result.bytesBefore} bytes, now ${result.bytesAfter}`;
      console.log(
        `scavenged ${result.segmentsDone} ${unit} (${rewritten}): ${result.eventsRemoved} events removed, ` +
          `${size}${result.quarantinedRecordsZeroed > 0 ? `, ${result.quarantinedRecordsZeroed} quarantined records zeroed` : ''} (${Math.round(result.durationMs)} ms)`,
      );
    } finally {
      bar?.stop();
      await store.close();
    }
  });

program
  .command('snapshot')
  .description('Take a checkpoint now: write a snapshot so the next open replays only what comes after it. Needs the store to itself.')
  .argument('<dir>', 'store directory')
  .action(async (dir: string) => {
    const store = await openExclusive('snapshot', dir);
    if (!store) return;
    try {
      const taken = await store.checkpoint();
      if (!taken) console.log('the store is empty: no snapshot taken');
      else console.log(`snapshot ${taken.file} covers positions 0 to ${taken.position} (written in ${Math.round(taken.durationMs)} ms)`);
    } finally {
      await store.close();
    }
  });

program
  .command('backup')
  .description('Copy a store, even while an application writes to it, into a new directory that opens as a store: every event durable when the backup started, the newest snapshot, subscription checkpoints.')
  .argument('<dir>', 'store directory')
  .argument('<dest>', 'where the copy goes (must not exist yet)')
  .action(async (dir: string, dest: string) => {
    const store = await EventStore.open(existingDir(dir), { readOnly: true });
    try {
      const done = await store.backup(resolve(dest));
      const what = [pluralize(done.segments, 'segment'), done.snapshot ? `snapshot ${done.snapshot}` : 'no snapshot', pluralize(done.subscriptions.length, 'subscription checkpoint')].join(', ');
      console.log(
        done.position < 0
          ? `backed up an empty store to ${done.directory}`
          : `backed up positions 0 to ${done.position} (${what}, ${done.bytes} bytes) to ${done.directory} in ${Math.round(done.durationMs)} ms`,
      );
    } finally {
      await store.close();
    }
  });

program
  .command('bench')
  .description('Measure eventfold against better-sqlite3 (as an event store) and the raw disk on this machine.')
  .option('--events <n>', 'events in the batched-append workload', wholeNumber, 5_000_000)
  .option('--reopen-events <n>', 'size of the large store whose reopen is timed', wholeNumber, 10_000_000)
  .option('--out <dir>', 'write bench.json and bench.md here')
  .option('--scratch <dir>', 'where the benchmark stores are written (removed afterwards)')
  .action(async (options: { events: number; reopenEvents: number; out?: string; scratch?: string }) => {
    await runBenchmark({ events: options.events, reopenEvents: options.reopenEvents, out: options.out ?? null, scratch: options.scratch, log: (line: string) => console.log(line) });
  });

program
  .command('demo')
  .description('A one-minute tour: appends, a real crash of a child process, recovery and its report, state read back.')
  .argument('[dir]', 'store directory to keep afterwards (default: a temporary one, removed at the end)')
  .action(async (dir: string | undefined) => {
    await runDemo(dir, (line) => console.log(line));
  });

program
  .command('demo-writer', { hidden: true })
  .argument('<dir>')
  .action(async (dir: string) => {
    await runDemoWriter(dir);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const { message, exitCode } = describeProblem(error, storeArgument);
  if (message) console.error(message);
  process.exitCode = exitCode;
});

/** The streams with metadata or deletions, read through a read-only open (changes nothing). */
async function readRetention(dir: string): Promise<RetentionReport> {
  const store = await EventStore.open(existingDir(dir), { readOnly: true });
  try {
    return await store.retentionReport();
  } finally {
    await store.close();
  }
}

function retentionText(metadata: StreamMetadata): string {
  const parts = [];
  if (metadata.maxCount !== undefined) parts.push(`maxCount ${metadata.maxCount}`);
  if (metadata.maxAge !== undefined) parts.push(`maxAge ${metadata.maxAge} ms`);
  if (metadata.truncateBefore !== undefined) parts.push(`truncateBefore ${metadata.truncateBefore}`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

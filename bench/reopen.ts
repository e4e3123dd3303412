// The reopen of a store with many streams from a fresh snapshot: builds a
// store of --streams streams (--per-stream events each, default 1,000,000 ×
// 1), takes a checkpoint (a clean close writes no snapshot of its own), closes
// it, then opens it --runs times, each in a fresh process, and prints each
// open's wall time, main-thread CPU time and RSS, and their medians.
//
//   npm run bench:reopen [-- --streams 1000000 --per-stream 1 --runs 7 --dir <store> --keep]
//
// --segment-kib n makes segments of n KiB (64 MiB by default): 640 gives
// about as many segments (≈ 220) as the 100M scale run's 13.7 GB, which the
// open also visits (one open, size and header read each).
//
// With --dir, a store already there is opened as it is (build it once with
// --keep, then time several builds against it; `--lib <dist/index.js>` opens
// with another build, for alternating A/B runs).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Options {
  streams: number;
  perStream: number;
  runs: number;
  dir: string | undefined;
  keep: boolean;
  lib: string;
  segmentKiB: number | undefined;
}

function parse(argv: string[]): Options {
  const options: Options = { streams: 1_000_000, perStream: 1, runs: 7, dir: undefined, keep: false, lib: resolve(__dirname, '../src/index'), segmentKiB: undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i];
    switch (argv[i]) {
      case '--streams': options.streams = Number(value()); break;
      case '--per-stream': options.perStream = Number(value()); break;
      case '--runs': options.runs = Number(value()); break;
      case '--dir': options.dir = resolve(value()); break;
      case '--keep': options.keep = true; break;
      case '--lib': options.lib = resolve(value()); break;
      case '--segment-kib': options.segmentKiB = Number(value()); break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return options;
}

// Runs in the child: one timed open (the library loaded before the clock starts).
const OPEN_ONCE = `
const lib = require(process.argv[1]);
(async () => {
  const dir = process.argv[2];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const store = await lib.EventStore.open(dir);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const rss = process.memoryUsage().rss;
  const snapshot = store.recovery.snapshot.used;
  const streams = store.streams().length;
  await store.close();
  console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, rssMiB: rss / 2 ** 20, peakRssMiB: process.resourceUsage().maxRSS / 1024, snapshot, streams }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

async function build({ lib, streams, perStream, segmentKiB }: Options, dir: string): Promise<void> {
  const { EventStore } = require(lib) as typeof import('../src/index');
  const store = await EventStore.open(dir, { snapshotEvery: 0, ...(segmentKiB ? { segmentSize: segmentKiB * 1024 } : {}) });
  const started = performance.now();
  const inFlight: Array<Promise<unknown>> = [];
  for (let s = 0; s < streams; s++) {
    const events = Array.from({ length: perStream }, (_, j) => ({ type: 'Opened', data: { n: j } }));
    inFlight.push(store.append(`account-${s}`, events));
    if (inFlight.length >= 10_000) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  await store.checkpoint();
  await store.close();
  console.log(`built ${streams.toLocaleString('en-US')} streams × ${perStream} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'eventfold-reopen-'));
  const keep = options.keep || options.dir !== undefined;
  try {
    if (!existsSync(join(dir, 'snapshots'))) await build(options, dir);
    const loader = options.lib.endsWith('.js') ? [] : ['-r', 'ts-node/register/transpile-only'];
    const runs: Array<{ ms: number; cpuMs: number; rssMiB: number; peakRssMiB: number; snapshot: string | null; streams: number }> = [];
    for (let i = 0; i < options.runs; i++) {
      const out = execFileSync(process.execPath, [...loader, '-e', OPEN_ONCE, options.lib, dir], { encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } });
      const run = JSON.parse(out.trim().split('\n').pop()!);
      runs.push(run);
      console.log(`open ${i + 1}: ${run.ms.toFixed(0)} ms, CPU ${run.cpuMs.toFixed(0)} ms, RSS ${run.rssMiB.toFixed(0)} MiB (peak ${run.peakRssMiB.toFixed(0)}), ${run.streams.toLocaleString('en-US')} streams, snapshot ${run.snapshot}`);
    }
    console.log(`median of ${runs.length} opens: ${median(runs.map((r) => r.ms)).toFixed(0)} ms, CPU ${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms, RSS ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB (peak ${median(runs.map((r) => r.peakRssMiB)).toFixed(0)})`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

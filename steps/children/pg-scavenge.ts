// A scavenge in a child process, to be killed or held midway:
//   pg-scavenge.ts <url> [hold | through | clock-ahead-hours=<n>]
// Scavenges the store; after the first batch of deleted rows it prints
// "batch <events removed>" and never returns from its progress handler, so
// the scavenge stops right there (its batch committed, nothing else begun)
// until the parent kills the process. With `hold`, its progress handler
// instead waits (its thread blocked, as in a long GC pause) until the parent
// writes a line to its stdin, then the scavenge goes on; it prints
// "finished <events removed>" at the end. With `clock-ahead-hours=<n>` its
// clock (Date.now) runs n hours ahead and the scavenge runs to its end; with
// `through` it just runs to its end.
import { spawnSync } from 'node:child_process';
import { printNow } from './print-now';
import { EventStore } from '../../src/index';

async function main(): Promise<void> {
  const [url, mode] = process.argv.slice(2);
  const ahead = /^clock-ahead-hours=(\d+)$/.exec(mode ?? '');
  if (ahead) {
    // This machine's clock runs ahead of the others' and the server's (a VM without NTP).
    const realNow = Date.now;
    Date.now = () => realNow() + Number(ahead[1]) * 3_600_000;
  }
  const store = await EventStore.open(url);
  let held = false;
  const result = await store.scavenge({
    onProgress: (progress) => {
      if (progress.eventsRemoved === 0 || held || ahead || mode === 'through') return;
      held = true;
      printNow(`batch ${progress.eventsRemoved}\n`);
      // Blocks this thread until the parent's line (the shell reads one line of this process's stdin).
      if (mode === 'hold') spawnSync('sh', ['-c', 'read line'], { stdio: ['inherit', 'ignore', 'inherit'] });
      // Blocks this thread for good: no further statement of the scavenge is sent.
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  });
  printNow(`finished ${result.eventsRemoved}\n`);
  await store.close();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

// A scavenge in a child process, to be killed midway:
//   pg-scavenge.ts <url>
// Scavenges the store; after the first batch of deleted rows it prints
// "batch <events removed>" and never returns from its progress handler, so
// the scavenge stops right there (its batch committed, nothing else begun)
// until the parent kills the process.
import { printNow } from './print-now';
import { EventStore } from '../../src/index';

async function main(): Promise<void> {
  const [url] = process.argv.slice(2);
  const store = await EventStore.open(url);
  await store.scavenge({
    onProgress: (progress) => {
      if (progress.eventsRemoved === 0) return;
      printNow(`batch ${progress.eventsRemoved}\n`);
      // Blocks this thread for good: no further statement of the scavenge is sent.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  });
  printNow('finished\n');
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

// A child process that consumes a store through a subscription and prints
// "handled <position>" for every event its handler finished.
import { writeSync } from 'node:fs';
import { EventStore } from '../../src/index';

/**
 * Written straight to the pipe before the handler returns — never buffered in
 * this process — so that every event a checkpoint covers has its line in the
 * pipe when the SIGKILL comes (process.stdout may buffer a pipe's writes in
 * memory, and a killed process loses them).
 */
function printNow(line: string): void {
  const bytes = Buffer.from(line);
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(1, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

async function main(): Promise<void> {
  const [dir, name, every] = process.argv.slice(2);
  const store = await EventStore.open(dir);
  await store.subscribe(name, (event) => {
    printNow(`handled ${event.position}\n`);
  }, { checkpointEvery: Number(every) });
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

// A child process that consumes a store through a subscription and prints
// "handled <position>" for every event its handler finished.
import { printNow } from './print-now';
import { EventStore } from '../../src/index';

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

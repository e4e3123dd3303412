// A second process with a PostgreSQL store open, driven line by line:
//   pg-follower.ts <url>
// Prints "open" once the store is open; then, for each line on stdin:
//   "append <stream>" — appends 1 event, prints "acked <version> <position>";
//   "read"            — reads all events, prints "read <JSON of events per stream>".
import { createInterface } from 'node:readline';
import { printNow } from './print-now';
import { EventStore } from '../../src/index';

async function main(): Promise<void> {
  const [url] = process.argv.slice(2);
  const store = await EventStore.open(url);
  printNow('open\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, stream] = line.split(' ');
    if (command === 'append') {
      const result = await store.append(stream, [{ type: 'Appended', data: { by: 'follower' } }]);
      printNow(`acked ${result.version} ${result.position}\n`);
    } else if (command === 'read') {
      const counts: Record<string, number> = {};
      for await (const event of store.readAll()) counts[event.stream] = (counts[event.stream] ?? 0) + 1;
      printNow(`read ${JSON.stringify(counts)}\n`);
    }
  }
  await store.close();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

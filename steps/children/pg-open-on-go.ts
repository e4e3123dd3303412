// A child process that opens a store when told to: prints "ready <pid>",
// waits for the line "go" on stdin, opens the store at argv[2] (a
// PostgreSQL URL), prints "opened <last position>" or "error <message>",
// closes it and exits. Several of these told "go" together open one empty
// database at the same moment.
import { createInterface } from 'node:readline';
import { EventStore } from '../../src/index';

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line !== 'go') return;
  lines.close();
  EventStore.open(process.argv[2]).then(
    async (store) => {
      process.stdout.write(`opened ${store.position}\n`);
      await store.close();
      process.exit(0);
    },
    (error) => {
      process.stdout.write(`error ${String(error?.message ?? error).replace(/\n/g, ' ')}\n`);
      process.exit(0);
    },
  );
});
process.stdout.write(`ready ${process.pid}\n`);

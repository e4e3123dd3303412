// A child process that opens a store and keeps it open until it is killed.
import { EventStore } from '../../src/index';

EventStore.open(process.argv[2]).then(
  () => {
    process.stdout.write(`ready ${process.pid}\n`);
    setInterval(() => undefined, 60_000);
  },
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);

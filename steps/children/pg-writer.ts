// A writer process of the multi-process PostgreSQL scenario:
//   pg-writer.ts <url> <writer> <appends> <stream>...
// Appends <appends> events, one per append, to the streams in turn, each
// with the version it last read as its expected version (retrying with the
// actual version after a conflict). Prints "acked <stream> <version>
// <position> <writer> <i>" for every acknowledged append, straight to the
// pipe (a SIGKILL loses no printed line), and "done" at the end.
import { printNow } from './print-now';
import { EventStore, ExpectedVersionConflictError } from '../../src/index';

async function lastVersion(store: EventStore, stream: string): Promise<number> {
  for await (const event of store.readStream(stream, { direction: 'backward', limit: 1 })) return event.version;
  return -1;
}

async function main(): Promise<void> {
  const [url, writer, appends, ...streams] = process.argv.slice(2);
  const store = await EventStore.open(url);
  for (let i = 0; i < Number(appends); i++) {
    const stream = streams[i % streams.length];
    let expected = await lastVersion(store, stream);
    for (;;) {
      try {
        const result = await store.append(stream, [{ type: 'SeatBooked', data: { writer: Number(writer), i } }], { expectedVersion: expected < 0 ? 'no_stream' : expected });
        printNow(`acked ${stream} ${result.version} ${result.position} ${writer} ${i}\n`);
        break;
      } catch (error) {
        if (!(error instanceof ExpectedVersionConflictError)) throw error;
        expected = error.actual;
      }
    }
  }
  printNow('done\n');
  await store.close();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

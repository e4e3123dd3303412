// A writer process of the multi-process PostgreSQL scenario:
//   pg-writer.ts [--pause-after=<n>] <url> <writer> <appends> <stream>...
// Appends <appends> events, one per append, to the streams in turn, each
// with the version it last read as its expected version (retrying with the
// actual version after a conflict). Prints "acked <stream> <version>
// <position> <writer> <i>" for every acknowledged append, straight to the
// pipe (a SIGKILL loses no printed line), and "done" at the end. With
// `--pause-after=<n>` first, after <n> appends it prints "paused" and waits
// for the line "go" on stdin, so a scenario can hold the position counter
// before any writer can have finished (under load one could otherwise be).
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { printNow } from './print-now';
import { EventStore, ExpectedVersionConflictError } from '../../src/index';

async function lastVersion(store: EventStore, stream: string): Promise<number> {
  for await (const event of store.readStream(stream, { direction: 'backward', limit: 1 })) return event.version;
  return -1;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const pauseAfter = args[0]?.startsWith('--pause-after=') ? Number(args.shift()!.slice('--pause-after='.length)) : -1;
  const [url, writer, appends, ...streams] = args;
  const store = await EventStore.open(url);
  for (let i = 0; i < Number(appends); i++) {
    if (i === pauseAfter) {
      printNow('paused\n');
      const lines = createInterface({ input: process.stdin });
      for (;;) {
        const [line] = (await once(lines, 'line')) as [string];
        if (line === 'go') break;
      }
      lines.close();
    }
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

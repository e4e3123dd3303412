// A process with a PostgreSQL store open and a projection, driven line by line:
//   pg-projection.ts <url> <snapshotEvery> <marker>
// Its projection "notes" counts the application's events and keeps the
// distinct `note` texts of their data. Prints "open" once the store is open;
// then, for each line on stdin:
//   "state"             — prints "state <count> <notes holding the marker>";
//   "append <stream> <n>" — appends n events one at a time, prints "appended <last position>";
//   "scavenge-failing"  — scavenges, its progress callback throwing after the
//                         first batch; prints "scavenge rejected <message>";
//   "checkpoint"        — takes in what other processes appended, takes a
//                         snapshot (after any rebuild of the projections the
//                         store is doing), prints "checkpoint <position>".
import { createInterface } from 'node:readline';
import { printNow } from './print-now';
import { EventStore } from '../../src/index';

interface Notes {
  count: number;
  notes: string[];
}

async function main(): Promise<void> {
  const [url, snapshotEvery, marker] = process.argv.slice(2);
  const store = await EventStore.open(url, {
    snapshotEvery: Number(snapshotEvery),
    projections: {
      notes: {
        version: 1,
        initialState: { count: 0, notes: [] } as Notes,
        evolve(draft: Notes, event) {
          draft.count++;
          const note = (event.data as { note?: unknown } | null)?.note;
          if (typeof note === 'string' && !draft.notes.includes(note)) draft.notes.push(note);
        },
      },
    },
  });
  printNow('open\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, stream, n] = line.split(' ');
    if (command === 'state') {
      const state = store.state('notes') as Notes;
      printNow(`state ${state.count} ${state.notes.filter((note) => note.includes(marker)).length}\n`);
    } else if (command === 'append') {
      let last = -1;
      for (let i = 0; i < Number(n); i++) last = (await store.append(stream, [{ type: 'Appended', data: { by: 'second process', i } }])).position;
      printNow(`appended ${last}\n`);
    } else if (command === 'scavenge-failing') {
      // A progress callback that throws after the first batch (a progress bar that crashed): the scavenge fails midway.
      const outcome = await store.scavenge({ onProgress: (progress) => { if (progress.eventsRemoved > 0) throw new Error('progress bar crashed'); } }).then(
        (result) => `resolved ${result.eventsRemoved}`,
        (error: Error) => `rejected ${error.message}`,
      );
      printNow(`scavenge ${outcome}\n`);
    } else if (command === 'checkpoint') {
      await store.refresh();
      const result = await store.checkpoint();
      printNow(`checkpoint ${result?.position}\n`);
    }
  }
  await store.close();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

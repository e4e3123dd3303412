// A child process that races other processes to open stores, round by round.
// For each line "go <round> <dir>" on stdin it tries to open <dir> once and
// answers "won <round>" (and keeps that store open), "lost <round> <ownerPid>"
// on StoreLockedError, or "error <round> <message>". When stdin ends it closes
// every store it won and exits: nobody closes until every round is over, so a
// second owner in any round would show as a second "won".
import { createInterface } from 'node:readline';
import { EventStore, StoreLockedError } from '../../src/index';

const won: EventStore[] = [];
const attempts: Array<Promise<void>> = [];
createInterface({ input: process.stdin }).on('line', (line) => {
  const [, round, dir] = /^go (\d+) (.+)$/.exec(line) ?? [];
  if (!dir) return;
  attempts.push(
    EventStore.open(dir).then(
      (store) => {
        won.push(store);
        process.stdout.write(`won ${round} ${store.recovery.staleLockOwner}\n`);
      },
      (error) => {
        if (error instanceof StoreLockedError) process.stdout.write(`lost ${round} ${error.ownerPid}\n`);
        else process.stdout.write(`error ${round} ${String(error?.message ?? error).replace(/\n/g, ' ')}\n`);
      },
    ),
  );
}).on('close', async () => {
  await Promise.all(attempts);
  for (const store of won) await store.close();
  process.exit(0);
});
process.stdout.write(`ready ${process.pid}\n`);

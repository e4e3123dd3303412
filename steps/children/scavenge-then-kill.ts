// A child process that scavenges a store and kills itself with SIGKILL right
// after the scavenge has put its Nth rewritten segment in place:
//   scavenge-then-kill.ts <dir> <segmentSize> <N>
// (onProgress reports each segment once it is done: a rewritten one is then committed).
import { EventStore } from '../../src/index';

const [dir, segmentSize, killAfter] = process.argv.slice(2);

(async () => {
  const store = await EventStore.open(dir, { segmentSize: Number(segmentSize) });
  let rewritten = 0;
  let previous = { bytesBefore: 0, bytesAfter: 0 };
  await store.scavenge({
    onProgress: (progress) => {
      if (progress.bytesAfter - previous.bytesAfter < progress.bytesBefore - previous.bytesBefore) rewritten++;
      previous = progress;
      if (rewritten === Number(killAfter)) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.stderr.write(`the scavenge ended after ${rewritten} rewritten segments without reaching ${killAfter}\n`);
  process.exit(1);
})().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

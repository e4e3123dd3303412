// A child process for crash tests: appends forever from several concurrent
// callers and prints one line per acknowledged append:
//   ack <stream> <first seq> <count> <position>
// Each caller writes its own stream; an event's data.seq equals its version.
import { EventStore } from '../../src/index';

async function main(): Promise<void> {
  const [dir, callersArg] = process.argv.slice(2);
  const store = await EventStore.open(dir);
  process.stdout.write(`ready ${process.pid}\n`);
  const callers = Number(callersArg ?? 4);
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      const stream = `writer-${caller}`;
      let next = store.streamVersion(stream) + 1;
      for (;;) {
        const count = 1 + Math.floor(Math.random() * 4);
        const events = Array.from({ length: count }, (_, i) => ({ type: 'Tick', data: { writer: caller, seq: next + i } }));
        const { position } = await store.append(stream, events, { expectedVersion: next === 0 ? 'no_stream' : next - 1 });
        process.stdout.write(`ack ${stream} ${next} ${count} ${position}\n`);
        next += count;
      }
    }),
  );
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

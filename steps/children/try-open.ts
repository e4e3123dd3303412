// A child process that opens a store once, without retrying, and says how it went:
//   opened <pid> <staleLockOwner|null> <clean|unclean>   then keeps the store open until stdin ends or it is killed
//   locked <ownerPid|null>                               (StoreLockedError) and exits 0
import { EventStore, StoreLockedError } from '../../src/index';

EventStore.open(process.argv[2]).then(
  (store) => {
    const { staleLockOwner, cleanShutdown } = store.recovery;
    process.stdout.write(`opened ${process.pid} ${staleLockOwner} ${cleanShutdown ? 'clean' : 'unclean'}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => store.close().then(() => process.exit(0)));
  },
  (error) => {
    if (error instanceof StoreLockedError) {
      process.stdout.write(`locked ${error.ownerPid}\n`);
      process.exit(0);
    }
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  },
);

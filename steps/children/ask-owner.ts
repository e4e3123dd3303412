// A child process that asks, over and over, who has a store open — the probe
// `eventfold info` and `eventfold verify` make — until stdin ends; then prints
//   asked <count>
import { NodeFileSystem } from '../../src/index';
import { currentOwner } from '../../src/recovery/lock';

const fs = new NodeFileSystem();
let asked = 0;
let stop = false;
process.stdin.on('end', () => (stop = true));
process.stdin.resume();
(async () => {
  process.stdout.write('ready\n');
  while (!stop) {
    await currentOwner(fs, process.argv[2]);
    asked++;
  }
  process.stdout.write(`asked ${asked}\n`);
  process.exit(0);
})().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});

import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/eventfold-cli';
import { writeFileThatIsNotAStore } from '../support/not-a-store';
import type { EventfoldWorld } from '../support/world';

const TARGETS: Record<string, (world: EventfoldWorld) => string> = {
  'the store': (world) => world.storeDir,
  'a file instead of a directory': (world) => writeFileThatIsNotAStore(world.dir),
  'a directory that is not a store': (world) => {
    const dir = join(world.dir, 'photos');
    mkdirSync(dir, { recursive: true });
    return dir;
  },
  'a directory that does not exist': (world) => join(world.dir, 'missing'),
};

When(/^the operator runs "([^"]+)" on (a file instead of a directory|a directory that is not a store)$/, function (this: EventfoldWorld, command: string, target: string) {
  runCli(this, command, TARGETS[target](this));
});

Then('stderr is exactly one line', function (this: EventfoldWorld) {
  const { stderr } = this.cli!;
  expect(stderr.trimEnd().split('\n'), stderr).to.have.length(1);
});

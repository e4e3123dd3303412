import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, InvalidInputError } from '../../src/index';
import { writeFileThatIsNotAStore } from '../support/not-a-store';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Evaluates a JavaScript expression written in a feature table (test code only). */
function evaluate(expression: string, scope: Record<string, unknown> = {}): unknown {
  return new Function(...Object.keys(scope), `return (${expression});`)(...Object.values(scope));
}

/** Calls and, for async iterables (readStream, readAll), takes the first item: that is where their checks run. */
async function settle(result: unknown): Promise<void> {
  if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    await (result as AsyncIterator<unknown>).next();
  } else {
    await result;
  }
}

/** Where the scenario opens a store with the options under test, and the scenario directory's entries before. */
const optionChecks = scenarioState(() => ({ target: undefined as string | undefined, entriesBefore: undefined as string[] | undefined }));

When('a store is opened in a new directory with options {}', async function (this: EventfoldWorld, options: string) {
  optionChecks(this).target = join(this.dir, 'new-store');
  await this.capture(async () => {
    this.store = await EventStore.open(optionChecks(this).target!, evaluate(options) as never);
  });
});

const PATHS: Record<string, (world: EventfoldWorld) => unknown> = {
  'an empty path': () => '',
  'the number 123': () => 123,
  'a path that is a file': (world) => writeFileThatIsNotAStore(world.dir),
  'a path inside a file': (world) => join(writeFileThatIsNotAStore(world.dir), 'store'),
};

When('a store is opened at {}', async function (this: EventfoldWorld, path: string) {
  const target = PATHS[path](this);
  optionChecks(this).target = typeof target === 'string' && target ? target : undefined;
  optionChecks(this).entriesBefore = readdirSync(this.dir).sort();
  await this.capture(async () => {
    this.store = await EventStore.open(target as string);
  });
});

When('the store is called as {}', async function (this: EventfoldWorld, call: string) {
  await this.capture(() => settle(evaluate(call, { store: this.store, EventStore })));
});

Then('nothing was created on disk', function (this: EventfoldWorld) {
  const { target, entriesBefore } = optionChecks(this);
  if (target && !entriesBefore) expect(existsSync(target), `${target} exists`).to.equal(false);
  if (entriesBefore) expect(readdirSync(this.dir).sort()).to.deep.equal(entriesBefore);
  // An empty path must not have turned the working directory into a store.
  expect(existsSync(join(process.cwd(), 'log')), 'a log/ directory in the working directory').to.equal(false);
  expect(existsSync(join(process.cwd(), 'LOCK')), 'a LOCK file in the working directory').to.equal(false);
});

Then("the error's cause is the getter's error", function (this: EventfoldWorld) {
  expect(((this.lastError as Error).cause as Error)?.message).to.equal('no from today');
});

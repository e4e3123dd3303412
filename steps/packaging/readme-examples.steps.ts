import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const ROOT = join(__dirname, '..', '..');

/** The scratch project the README examples run in, and what the last one printed. */
const readmeRun = scenarioState(() => ({ project: '', printed: '' }));

/** The README's ```ts block that contains `marker`. */
function readmeExample(marker: string): string {
  const blocks = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const found = blocks.filter((block) => block.includes(marker));
  expect(found, `one README example shows ${marker}`).to.have.length(1);
  return found[0];
}

function runNode(world: EventfoldWorld, file: string): void {
  const run = spawnSync(process.execPath, [file], { cwd: readmeRun(world).project, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).to.equal(0);
  readmeRun(world).printed = run.stdout;
}

Given('a project made by {string} that depends on this eventfold', function (this: EventfoldWorld, init: string) {
  const project = join(this.dir, 'project');
  mkdirSync(project);
  const [command, ...args] = init.split(' ');
  execFileSync(command, args, { cwd: project, stdio: 'ignore' });
  // As `npm install` of this package would leave it, without the network: dist/ is what npm test has just built.
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(ROOT, join(project, 'node_modules', 'eventfold'), 'dir');
  readmeRun(this).project = project;
});

When('the README example that shows {string} is saved as {string} and run with node', function (this: EventfoldWorld, marker: string, file: string) {
  writeFileSync(join(readmeRun(this).project, file), readmeExample(marker));
  runNode(this, file);
});

Then("it prints the append's result: position {int}, version {int}", function (this: EventfoldWorld, position: number, version: number) {
  expect(readmeRun(this).printed.split('\n')).to.include(`{ position: ${position}, version: ${version} }`);
});

Then('it prints versions {int} and {int} of the stream at positions {int} and {int}', function (this: EventfoldWorld, v0: number, v1: number, p0: number, p1: number) {
  const lines = readmeRun(this).printed.split('\n');
  const first = lines.findIndex((line) => line.startsWith(`${v0} ${p0} `));
  expect(lines[first]).to.match(new RegExp(`^${v0} ${p0} Opened \\{ owner: 'ann' \\} null [0-9a-f-]{36} \\d+$`));
  expect(lines[first + 1]).to.match(new RegExp(`^${v1} ${p1} Deposited \\{ amount: 5 \\} null [0-9a-f-]{36} \\d+$`));
});

Then('it prints the expected and actual versions of the conflict: {int} and {int}', function (this: EventfoldWorld, expected: number, actual: number) {
  expect(readmeRun(this).printed.split('\n')).to.include(`${expected} ${actual}`);
});

import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventfoldWorld } from './support/world';

const ROOT = join(__dirname, '..');

/** The README's ```ts block that contains `marker`. */
function readmeExample(marker: string): string {
  const blocks = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const found = blocks.filter((block) => block.includes(marker));
  expect(found, `one README example shows ${marker}`).to.have.length(1);
  return found[0];
}

function runNode(world: EventfoldWorld, file: string): void {
  const run = spawnSync(process.execPath, [file], { cwd: world.memo.project as string, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).to.equal(0);
  world.memo.printed = run.stdout;
}

Given('a project made by {string} that depends on this eventfold', function (this: EventfoldWorld, init: string) {
  const project = join(this.dir, 'project');
  mkdirSync(project);
  const [command, ...args] = init.split(' ');
  execFileSync(command, args, { cwd: project, stdio: 'ignore' });
  // As `npm install` of this package would leave it, without the network: dist/ is what npm test has just built.
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(ROOT, join(project, 'node_modules', 'eventfold'), 'dir');
  this.memo.project = project;
});

When('the README example that shows {string} is saved as {string} and run with node', function (this: EventfoldWorld, marker: string, file: string) {
  writeFileSync(join(this.memo.project as string, file), readmeExample(marker));
  runNode(this, file);
});

When('the README example that shows {string} is saved as {string}, compiled with tsc and run with node', function (this: EventfoldWorld, marker: string, file: string) {
  const project = this.memo.project as string;
  writeFileSync(join(project, file), readmeExample(marker));
  // As the README says: npx tsc --module nodenext --target es2022 --types node <file>; typescript and @types/node as a user would install them.
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), file], {
    cwd: project,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
  runNode(this, file.replace(/\.mts$/, '.mjs'));
});

Then('it prints versions {int} and {int} of the stream at positions {int} and {int}', function (this: EventfoldWorld, v0: number, v1: number, p0: number, p1: number) {
  const lines = (this.memo.printed as string).split('\n');
  expect(lines[0]).to.match(new RegExp(`^${v0} ${p0} Opened \\{ owner: 'ann' \\} null [0-9a-f-]{36} \\d+$`));
  expect(lines[1]).to.match(new RegExp(`^${v1} ${p1} Deposited \\{ amount: 5 \\} null [0-9a-f-]{36} \\d+$`));
});

Then('it prints the expected and actual versions of the conflict: {int} and {int}', function (this: EventfoldWorld, expected: number, actual: number) {
  expect((this.memo.printed as string).split('\n')[2]).to.equal(`${expected} ${actual}`);
});

Then('it prints the balance of {string} as {int}', function (this: EventfoldWorld, stream: string, balance: number) {
  expect((this.memo.printed as string).trim()).to.equal(`{ '${stream}': ${balance} }`);
});

import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APT_INSTALL, installPlan, machineFacts, SEARCH_OVERRIDE, type MachineFacts } from '../setup/browser';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const ROOT = join(__dirname, '..', '..');

/** The machine a scenario pretends to be, and what the browser setup found or planned on it. */
const browserSetup = scenarioState(() => ({
  /** The browser executable the scenario points at (or a path where none is). */
  browser: '',
  /** The folder the setup searches instead of PATH. */
  searchPath: '',
  /** What the setup printed. */
  output: { stdout: '', stderr: '' },
  facts: undefined as MachineFacts | undefined,
  plan: undefined as ReturnType<typeof installPlan> | undefined,
}));

function fakeBrowser(world: EventfoldWorld, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\necho "a stand-in for a browser"\n');
  chmodSync(path, 0o755);
  browserSetup(world).browser = path;
  return path;
}

function emptySearchPath(world: EventfoldWorld): string {
  const dir = join(world.dir, 'search-path');
  mkdirSync(dir, { recursive: true });
  browserSetup(world).searchPath = dir;
  return dir;
}

/** Runs the setup `npm test` runs, with the search path of the scenario. */
function runSetup(world: EventfoldWorld, env: NodeJS.ProcessEnv, args: string[] = []): void {
  const clean = { ...process.env };
  for (const variable of ['CHROME_PATH', 'CHROMIUM_PATH', 'PUPPETEER_EXECUTABLE_PATH', 'CHROME_BIN']) delete clean[variable];
  const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'steps/setup/ensure-browser.ts', ...args], {
    cwd: ROOT,
    env: { ...clean, [SEARCH_OVERRIDE]: browserSetup(world).searchPath, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).to.equal(0);
  browserSetup(world).output = { stdout: run.stdout, stderr: run.stderr };
}

function setupOutput(world: EventfoldWorld): { stdout: string; stderr: string } {
  return browserSetup(world).output;
}

Given('a browser executable at a path of its own', function (this: EventfoldWorld) {
  fakeBrowser(this, join(this.dir, 'elsewhere'), 'my-chrome');
});

Given('no browser on the search path', function (this: EventfoldWorld) {
  emptySearchPath(this);
});

Given('a browser executable named {string} on the search path', function (this: EventfoldWorld, name: string) {
  fakeBrowser(this, emptySearchPath(this), name);
});

When('the test setup runs with CHROME_PATH naming that browser', function (this: EventfoldWorld) {
  runSetup(this, { CHROME_PATH: browserSetup(this).browser });
});

When(/^the test setup runs( as a dry run)?$/, function (this: EventfoldWorld, dryRun: string | null | undefined) {
  runSetup(this, {}, dryRun ? ['--dry-run'] : []);
});

When('the test setup runs with CHROME_PATH naming a file that does not exist', function (this: EventfoldWorld) {
  browserSetup(this).browser = join(this.dir, 'no-such-chrome');
  runSetup(this, { CHROME_PATH: browserSetup(this).browser });
});

Then('the setup uses that browser, found via {string}', function (this: EventfoldWorld, via: string) {
  expect(setupOutput(this).stdout).to.contain(`Browser for the living documentation: ${browserSetup(this).browser} (found via ${via})`);
});

Then('the setup installs nothing', function (this: EventfoldWorld) {
  const { stdout, stderr } = setupOutput(this);
  expect(stdout + stderr).not.to.contain('apt-get install');
  expect(stdout).not.to.contain('installing');
});

Then('the setup says in one sentence that CHROME_PATH is not an executable file', function (this: EventfoldWorld) {
  const { stderr } = setupOutput(this);
  expect(stderr.trim().split('\n')).to.deep.equal([`CHROME_PATH is set to ${browserSetup(this).browser}, which is not an executable file: point it at a Chrome or Chromium executable, or unset it.`]);
});

Given(/^a machine running (Debian|Ubuntu|macOS), (with|without) apt-get, as (root|another user), without a browser$/, function (this: EventfoldWorld, system: string, apt: string, user: string) {
  const facts: MachineFacts = {
    platform: system === 'macOS' ? 'darwin' : 'linux',
    distribution: { Debian: 'debian', Ubuntu: 'ubuntu', macOS: undefined }[system],
    aptGet: apt === 'with',
    root: user === 'root',
  };
  browserSetup(this).facts = facts;
});

When('the test setup decides how to get a browser', function (this: EventfoldWorld) {
  browserSetup(this).plan = installPlan(browserSetup(this).facts!);
});

Then('it runs "apt-get update" then "apt-get install chromium"', function (this: EventfoldWorld) {
  const plan = browserSetup(this).plan!;
  expect(plan).to.have.property('commands');
  const [update, install, ...more] = (plan as { commands: string[][] }).commands;
  expect(more).to.deep.equal([]);
  expect(update[0]).to.equal('apt-get');
  expect(update).to.include('update');
  expect(install[0]).to.equal('apt-get');
  expect(install).to.include.members(['install', '-y', 'chromium']);
});

Then(/^it says in one sentence (?:to|that) (.+)$/, function (this: EventfoldWorld, what: string) {
  const plan = browserSetup(this).plan!;
  expect(plan).to.have.property('impossible');
  const sentence = (plan as { impossible: string }).impossible;
  expect(sentence.match(/\.(\s|$)/g), `one sentence: ${sentence}`).to.have.length(1);
  expect(sentence).to.match(/^No Chrome or Chromium was found/);
  const expected = what.replace(/^"|"$/g, '').replace(/"([^"]+)"/g, '$1');
  expect(sentence).to.contain(expected.replace(/^run /, ''));
});

Then('it prints what the decision for this machine says: the apt-get commands, or the one sentence', async function (this: EventfoldWorld) {
  const facts = machineFacts();
  const plan = installPlan(facts);
  const { stdout, stderr } = setupOutput(this);
  await this.attach(`${JSON.stringify(facts)}\n${stdout}${stderr}`, 'text/plain');
  if ('commands' in plan) {
    expect(stdout).to.contain('(dry run)');
    expect(stdout).to.contain(APT_INSTALL.map((command) => `  ${command.join(' ')}`).join('\n'));
  } else {
    expect(stderr.trim()).to.equal(plan.impossible);
  }
});

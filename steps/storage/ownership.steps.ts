import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EventStore, NodeFileSystem } from '../../src/index';
import { exited, pidNamespacesAllowed, startChildWithInput, type ChildLines } from '../support/child-lines';
import { assertGapless, collect } from '../support/events';
import { expectAcknowledged, writerAcks, writerLines, writerReached } from '../support/writer-acks';
import { startChild, whenReady } from '../support/children';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { LOCK_FILE } from '../../src/store-layout';

const OPENED = /^opened (\d+) (\S+) (clean|unclean)$/;
const OUTCOME = /^(opened|locked) /;

interface Opened {
  pid: number;
  staleLockOwner: number | null;
  clean: boolean;
}

function parseOpened(line: string): Opened {
  const [, pid, stale, clean] = OPENED.exec(line)!;
  return { pid: Number(pid), staleLockOwner: stale === 'null' ? null : Number(stale), clean: clean === 'clean' };
}

/** A child that opened the store and was killed with SIGKILL while holding it; its pid. */
async function killedOwner(world: EventfoldWorld, dir: string): Promise<number> {
  const child = startChild(world, 'hold-store.ts', [dir]);
  const pid = await whenReady(child);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return pid;
}

/** What the ownership steps of one scenario share (the killed owner's pid is the world's childOwnerPid: other folders' steps read it). */
const owners = scenarioState(() => ({
  /** What a process that tried to open the store printed: `opened …` or `locked <pid>`. */
  outcome: '',
  /** Whether PID namespaces (unshare) are allowed here. */
  namespaces: false,
  first: '',
  second: '',
  /** One copy of the store per racing round. */
  roundDirs: [] as string[],
  rounds: [] as RoundOutcome[],
  racerPids: [] as number[],
}));

When('a new process opens the same store', async function (this: EventfoldWorld) {
  const opener = startChildWithInput(this, 'try-open.ts', [this.storeDir]);
  owners(this).outcome = await opener.next(OUTCOME);
});

Then('that process owns the store at its first attempt', function (this: EventfoldWorld) {
  expect(owners(this).outcome).to.match(OPENED);
});

Then('its recovery report names the killed process as an owner that never closed the store', function (this: EventfoldWorld) {
  expect(parseOpened(owners(this).outcome).staleLockOwner).to.equal(this.childOwnerPid);
});

Then('its recovery report says the last shutdown was not clean', function (this: EventfoldWorld) {
  expect(parseOpened(owners(this).outcome).clean).to.equal(false);
});

Given('a store of {int} events that was closed', async function (this: EventfoldWorld, count: number) {
  const store = await EventStore.open(this.storeDir);
  await store.append('orders', Array.from({ length: count }, (_, i) => ({ type: 'Placed', data: { i } })));
  await store.close();
});

function writeLockNote(world: EventfoldWorld, pid: number): void {
  writeFileSync(join(world.storeDir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: new Date().toISOString() }) + '\n');
}

Given('its LOCK file names a live process that has nothing to do with the store', function (this: EventfoldWorld) {
  const bystander: ChildProcess = spawn('sleep', ['600'], { stdio: 'ignore' });
  this.children.push(bystander);
  expect(bystander.pid, 'the bystander process started').to.be.a('number');
  process.kill(bystander.pid!, 0); // alive
  writeLockNote(this, bystander.pid!);
});

Given('its LOCK file names process {int}', function (this: EventfoldWorld, pid: number) {
  process.kill(pid, 0); // alive
  writeLockNote(this, pid);
});

Given('two processes, each in a PID namespace of its own where it is process 1', async function (this: EventfoldWorld) {
  const probe = pidNamespacesAllowed();
  owners(this).namespaces = probe.allowed;
  await this.attach(
    probe.allowed
      ? `PID namespaces are allowed on this machine (${probe.why}): each opener runs under unshare --pid --fork --mount-proc.`
      : `PID namespaces are NOT allowed on this machine (${probe.why}): both openers ran in this PID namespace instead, so this run does not show the namespace case.`,
    'text/plain',
  );
});

When('both open the same store, one after the other', async function (this: EventfoldWorld) {
  const launcher = owners(this).namespaces ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'] : [];
  const first = startChildWithInput(this, 'try-open.ts', [this.storeDir], launcher);
  owners(this).first = await first.next(OUTCOME);
  const second = startChildWithInput(this, 'try-open.ts', [this.storeDir], launcher);
  owners(this).second = await second.next(OUTCOME);
});

Then('the first owns the store and the second is refused with a StoreLockedError naming process 1', function (this: EventfoldWorld) {
  expect(owners(this).first).to.match(OPENED);
  const firstPid = parseOpened(owners(this).first).pid;
  if (owners(this).namespaces) expect(firstPid, 'inside its namespace the owner is pid 1').to.equal(1);
  expect(owners(this).second).to.equal(`locked ${firstPid}`);
});

Given('{int} copies of a store whose owner was killed with SIGKILL', async function (this: EventfoldWorld, copies: number) {
  const template = join(this.dir, 'template');
  this.childOwnerPid = await killedOwner(this, template);
  const dirs: string[] = [];
  for (let i = 0; i < copies; i++) {
    const dir = join(this.dir, `round-${i}`);
    cpSync(template, dir, { recursive: true });
    dirs.push(dir);
  }
  owners(this).roundDirs = dirs;
});

interface RoundOutcome {
  winners: Array<{ racer: number; staleLockOwner: number | null }>;
  losers: Array<{ racer: number; ownerPid: number | null }>;
  errors: string[];
}

When('three processes race to open each copy at the same moment, round by round', async function (this: EventfoldWorld) {
  const racers: ChildLines[] = [0, 1, 2].map(() => startChildWithInput(this, 'race-open.ts', []));
  const pids = await Promise.all(racers.map(async (r) => Number((await r.next(/^ready /)).split(' ')[1])));
  const dirs = owners(this).roundDirs;
  const rounds: RoundOutcome[] = [];
  const started = performance.now();
  for (const [round, dir] of dirs.entries()) {
    // All three get the word before any answers: they open the same directory together.
    for (const racer of racers) racer.send(`go ${round} ${dir}`);
    const answers = await Promise.all(racers.map((r) => r.next(new RegExp(`^(won|lost|error) ${round}\\b`))));
    const outcome: RoundOutcome = { winners: [], losers: [], errors: [] };
    answers.forEach((answer, racer) => {
      const [kind, , detail] = answer.split(' ');
      if (kind === 'won') outcome.winners.push({ racer, staleLockOwner: detail === 'null' ? null : Number(detail) });
      else if (kind === 'lost') outcome.losers.push({ racer, ownerPid: detail === 'null' ? null : Number(detail) });
      else outcome.errors.push(answer);
    });
    rounds.push(outcome);
  }
  const seconds = (performance.now() - started) / 1000;
  for (const racer of racers) racer.child.stdin!.end();
  await Promise.all(racers.map((r) => new Promise((resolve) => (r.child.exitCode !== null ? resolve(null) : r.child.on('exit', resolve)))));
  owners(this).rounds = rounds;
  owners(this).racerPids = pids;
  await this.figures(
    { name: 'racing rounds', value: rounds.length, unit: 'rounds' },
    { name: 'opens refused', value: rounds.reduce((n, r) => n + r.losers.length, 0), unit: 'opens' },
    { name: 'rounds per second', value: Math.round(rounds.length / seconds), unit: 'rounds/s' },
  );
});

Then('every round had exactly one owner, and the two others were refused with a StoreLockedError', function (this: EventfoldWorld) {
  for (const [round, outcome] of owners(this).rounds.entries()) {
    expect(outcome.errors, `round ${round}`).to.deep.equal([]);
    expect(outcome.winners, `round ${round}: owners`).to.have.length(1);
    expect(outcome.losers, `round ${round}: refused`).to.have.length(2);
    // The pid in the refusal comes from the LOCK note, which the new owner rewrites an instant after taking the lock:
    // a loser that looked in that instant read the killed owner's note (or none). The note informs; the lock decides.
    const owner = owners(this).racerPids[outcome.winners[0].racer];
    for (const loser of outcome.losers) expect([owner, null, this.childOwnerPid], `round ${round}: refusal names a pid from the note`).to.include(loser.ownerPid);
  }
});

Then("every round's owner found the killed process named as an owner that never closed the store", function (this: EventfoldWorld) {
  for (const [round, outcome] of owners(this).rounds.entries()) {
    expect(outcome.winners[0].staleLockOwner, `round ${round}`).to.equal(this.childOwnerPid);
  }
});

/** Polls the lock itself (not a timing guess): resolves once someone holds the lock on LOCK. */
async function untilLocked(path: string): Promise<void> {
  const fs = new NodeFileSystem();
  for (let tries = 0; tries < 200; tries++) {
    if (await fs.isLocked(path)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nobody locked ${path} within 10 s`);
}

When('someone deletes the LOCK file', function (this: EventfoldWorld) {
  unlinkSync(join(this.storeDir, LOCK_FILE));
});

When('the owner has locked a new LOCK file', async function (this: EventfoldWorld) {
  await untilLocked(join(this.storeDir, LOCK_FILE));
});

When('someone deletes the LOCK file and this process opens the store at once', async function (this: EventfoldWorld) {
  await writerReached(this, 0);
  // The owner looks once a second; should it re-lock between the delete and this open, delete again.
  for (let attempt = 0; attempt < 5 && !this.store; attempt++) {
    unlinkSync(join(this.storeDir, LOCK_FILE));
    await this.capture(() => this.openStore());
  }
  expect(this.store, String(this.lastError)).to.not.equal(undefined);
});

Then('the writer stops within moments, its appends failing with a StoreFailedError that says another process owns the store', async function (this: EventfoldWorld) {
  const writer = writerLines(this);
  const stderr: string[] = [];
  writer.child.stderr!.on('data', (chunk) => stderr.push(String(chunk)));
  await exited(writer.child);
  expect(writer.child.exitCode).to.equal(1);
  expect(stderr.join('')).to.contain('StoreFailedError').and.to.contain('another process has locked the new one');
});

Then('every event the writer acknowledged is in the store', async function (this: EventfoldWorld) {
  await this.store!.close();
  this.store = undefined;
  const reader = await EventStore.open(this.storeDir, { readOnly: true });
  const events = await collect(reader.readAll());
  await reader.close();
  assertGapless(events);
  expectAcknowledged(events, writerAcks(this), 'after the old owner stopped');
});

import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { EventStore, type RecordedEvent } from '../../src/index';
import { collect } from '../support/events';
import { followChild, startChild, whenReady } from '../support/children';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

interface Round {
  acknowledged: Array<{ stream: string; firstSeq: number; count: number; position: number }>;
  events: RecordedEvent[];
  streams: Map<string, RecordedEvent[]>;
  appendedAfter: number;
  signal: string | null;
}

/** What the SIGKILL steps of one scenario share (the child's pid is the world's childOwnerPid: steps of other folders read it). */
const kills = scenarioState(() => ({
  rounds: [] as Round[],
  child: undefined as ChildProcess | undefined,
}));

Given('a store directory shared with a child process', function (this: EventfoldWorld) {
  kills(this).rounds = [];
});

When(
  'a child appends in a loop and is killed with SIGKILL after a random number of acknowledgements, {int} times',
  async function (this: EventfoldWorld, rounds: number) {
    const results: Round[] = [];
    let acknowledgedTotal = 0;
    for (let round = 0; round < rounds; round++) {
      const killAfter = 20 + Math.floor(Math.random() * 400);
      const acknowledged: Round['acknowledged'] = [];
      const child = startChild(this, 'append-loop.ts', [this.storeDir, '4']);
      const exit = await followChild(child, (line) => {
        const match = /^ack (\S+) (\d+) (\d+) (\d+)$/.exec(line);
        if (!match) return;
        acknowledged.push({ stream: match[1], firstSeq: Number(match[2]), count: Number(match[3]), position: Number(match[4]) });
        if (acknowledged.length === killAfter) child.kill('SIGKILL');
      });
      expect(exit.signal, `child should die by SIGKILL, not: ${exit.stderr}`).to.equal('SIGKILL');
      acknowledgedTotal += acknowledged.length;

      const store = await EventStore.open(this.storeDir);
      const events = await collect(store.readAll());
      const streams = new Map<string, RecordedEvent[]>();
      for (const name of store.streams()) streams.set(name, await collect(store.readStream(name)));
      const { position } = await store.append('parent-check', [{ type: 'Checked', data: { round } }]);
      await store.close();
      results.push({ acknowledged, events, streams, appendedAfter: position, signal: exit.signal });
    }
    kills(this).rounds = results;
    await this.figures(
      { name: 'SIGKILL rounds', value: rounds, unit: 'rounds' },
      { name: 'acknowledged appends checked', value: acknowledgedTotal, unit: 'appends' },
    );
  },
);

Then("after every kill every acknowledged event was present exactly once, in its stream's order", function (this: EventfoldWorld) {
  for (const [round, result] of kills(this).rounds.entries()) {
    expect(result.acknowledged.length, `round ${round} acknowledged something`).to.be.greaterThan(0);
    for (const [name, events] of result.streams) {
      if (!name.startsWith('writer-')) continue;
      // seq == version means each event is there once, in order, with nothing missing in between.
      events.forEach((event, version) => expect((event.data as { seq: number }).seq, `round ${round} ${name}`).to.equal(version));
    }
    for (const ack of result.acknowledged) {
      const events = result.streams.get(ack.stream) ?? [];
      expect(events.length, `round ${round}: ${ack.stream} must hold seq ${ack.firstSeq + ack.count - 1}`).to.be.greaterThanOrEqual(ack.firstSeq + ack.count);
      expect(events[ack.firstSeq + ack.count - 1].position, `round ${round}: acknowledged position`).to.equal(ack.position);
    }
  }
});

Then('after every kill the positions ran from 0 without a gap and the store accepted an append', function (this: EventfoldWorld) {
  for (const [round, result] of kills(this).rounds.entries()) {
    result.events.forEach((event, index) => expect(event.position, `round ${round}`).to.equal(index));
    expect(result.appendedAfter, `round ${round}`).to.equal(result.events.length);
  }
});

Given('a child process that has opened the store and keeps it open', async function (this: EventfoldWorld) {
  const child = startChild(this, 'hold-store.ts', [this.storeDir]);
  this.childOwnerPid = await whenReady(child);
  kills(this).child = child;
});

When('this process opens the same store', async function (this: EventfoldWorld) {
  await this.capture(() => this.openStore());
});

When('the child process is killed with SIGKILL', async function (this: EventfoldWorld) {
  const child = kills(this).child!;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
});


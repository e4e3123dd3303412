import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, type BackupResult, type RecordedEvent, type ScavengeResult } from '../../src/index';
import { followChild, startChild } from '../support/children';
import { filesHolding, LAST_TEXTS } from '../support/erasure';
import { numberedEvents, readAllEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import { scavenges } from '../support/scavenge-state';
import type { EventfoldWorld } from '../support/world';

/**
 * Snapshots and projections around a scavenge: a child process killed with
 * SIGKILL after each segment it puts in place, backups asked for between
 * segments, and projection states rebuilt from the events kept.
 */
const scavenged = scenarioState(() => ({
  marker: '',
  keptBefore: [] as RecordedEvent[],
  copies: [] as Array<{ dir: string; afterSegment: number; kept: RecordedEvent[]; filesHolding: string[] }>,
  backups: [] as BackupResult[],
  result: undefined as ScavengeResult | undefined,
  checkpointAfterScavenge: undefined as boolean | undefined,
}));

Then('the projection holds no text {string}', function (this: EventfoldWorld, text: string) {
  expect(JSON.stringify(this.store!.state('lastTexts' as never))).to.not.contain(text);
});

Given(
  '6 streams of 20 events, {string} deleted for good with its events holding the text {string}, {string} with maxCount 3 and 5 more events, and a checkpoint taken last',
  async function (this: EventfoldWorld, erased: string, marker: string, limited: string) {
    const store = this.store!;
    for (let round = 0; round < 4; round++) {
      for (let s = 0; s < 6; s++) {
        const stream = `s-${s}`;
        const events = numberedEvents(5, round * 5);
        if (stream === erased) events.forEach((event, i) => (event.data = { ...(event.data as object), note: `${marker} #${round * 5 + i}` }));
        await store.append(stream, events);
      }
    }
    await store.deleteStream(erased, { hard: true });
    await store.setStreamMetadata(limited, { maxCount: 3 });
    // 2 of these 5, in the segment being appended to when the checkpoint is taken, are removed by the scavenge.
    await store.append(limited, numberedEvents(5, 20));
    await store.checkpoint();
    scavenged(this).marker = marker;
    scavenged(this).keptBefore = await readAllEvents(store);
  },
);

When(
  'for each segment the scavenge rewrites, a copy of the store is scavenged by a child process killed with SIGKILL right after that segment is in place',
  async function (this: EventfoldWorld) {
    const state = scavenged(this);
    const options = { segmentSize: this.storeOptions.segmentSize };
    await this.store!.close();
    // A clean scavenge of one copy counts the segments to kill after.
    const probe = join(this.dir, 'probe');
    cpSync(this.storeDir, probe, { recursive: true });
    const probeStore = await EventStore.open(probe, options);
    const rewritten = (await probeStore.scavenge()).segmentsRewritten;
    await probeStore.close();
    expect(rewritten, 'segments the scavenge rewrites').to.be.greaterThan(3);
    for (let segment = 1; segment <= rewritten; segment++) {
      const dir = join(this.dir, `copy-${segment}`);
      cpSync(this.storeDir, dir, { recursive: true });
      const child = startChild(this, 'scavenge-then-kill.ts', [dir, String(options.segmentSize), String(segment)]);
      const exit = await followChild(child, () => undefined);
      expect(exit.signal, `the child killed after segment ${segment}: ${exit.stderr}`).to.equal('SIGKILL');
      const store = await EventStore.open(dir, options);
      const kept = await readAllEvents(store);
      await store.scavenge();
      await store.close();
      state.copies.push({ dir, afterSegment: segment, kept, filesHolding: filesHolding(dir, state.marker) });
    }
    await this.figures({ name: 'SIGKILLs, one after each rewritten segment', value: state.copies.length, unit: 'kills' });
  },
);

Then('every copy opens with every kept event exactly as before', function (this: EventfoldWorld) {
  const state = scavenged(this);
  expect(state.copies).to.have.length.greaterThan(3);
  for (const copy of state.copies) expect(copy.kept, `killed after segment ${copy.afterSegment}`).to.deep.equal(state.keptBefore);
});

Then('in every copy a scavenge run again leaves the text {string} in no file', function (this: EventfoldWorld, _text: string) {
  for (const copy of scavenged(this).copies) expect(copy.filesHolding, `killed after segment ${copy.afterSegment}`).to.deep.equal([]);
});

When('the store is scavenged and a backup is asked for after each segment it puts in place', async function (this: EventfoldWorld) {
  const state = scavenged(this);
  const store = this.store!;
  const asked: Array<Promise<BackupResult>> = [];
  let previous = { bytesBefore: 0, bytesAfter: 0 };
  state.result = await store.scavenge({
    onProgress: (progress) => {
      // After each segment that was rewritten (it shrank): from the first on, the old snapshot no longer matches the log.
      if (progress.bytesAfter - previous.bytesAfter < progress.bytesBefore - previous.bytesBefore) asked.push(store.backup(join(this.dir, `backup-${asked.length}`)));
      previous = progress;
    },
  });
  state.backups = await Promise.all(asked);
});

Then('there are as many backups as segments rewritten, at least {int}', function (this: EventfoldWorld, least: number) {
  const state = scavenged(this);
  expect(state.backups).to.have.length(state.result!.segmentsRewritten);
  expect(state.backups.length).to.be.at.least(least);
});

Then('every backup opens with every event it holds, as the store reads them', async function (this: EventfoldWorld) {
  const now = await readAllEvents(this.store!);
  for (const backup of scavenged(this).backups) {
    const copy = await EventStore.open(backup.directory, { segmentSize: this.storeOptions.segmentSize });
    const events = await readAllEvents(copy);
    await copy.close();
    expect(events, backup.directory).to.deep.equal(now.filter((event) => event.position <= backup.position));
  }
});

When('the store is scavenged while a checkpoint is asked for after its first segment', async function (this: EventfoldWorld) {
  const store = this.store!;
  let scavengeEnded = false;
  let checkpoint: Promise<unknown> | undefined;
  const state = scavenged(this);
  state.result = await store.scavenge({
    onProgress: () => {
      checkpoint ??= store.checkpoint().then(() => (state.checkpointAfterScavenge = scavengeEnded));
    },
  });
  scavengeEnded = true;
  expect(checkpoint, 'a checkpoint was asked for').to.not.equal(undefined);
  await checkpoint;
});

Then('the checkpoint was written after the scavenge ended', function (this: EventfoldWorld) {
  expect(scavenged(this).checkpointAfterScavenge).to.equal(true);
});

// ---- what a call's scavenge covers ----

const calls = scenarioState(() => ({
  erasureStartedAfterRunning: undefined as boolean | undefined,
}));

When(
  'a scavenge runs and, after its first segment, {string} is deleted for good and a scavenge is asked for at once',
  async function (this: EventfoldWorld, stream: string) {
    const store = this.store!;
    let runningEnded = false;
    let erasure: Promise<unknown> | undefined;
    const running = store.scavenge({
      onProgress: () => {
        if (erasure) return;
        // Inside the running scavenge's progress report: it has not ended, whatever the machine's speed.
        const deleted = store.deleteStream(stream, { hard: true });
        let erasureStarted = false;
        const scavenge = store.scavenge({
          onProgress: () => {
            if (erasureStarted) return;
            erasureStarted = true;
            calls(this).erasureStartedAfterRunning = runningEnded;
          },
        });
        erasure = Promise.all([deleted, scavenge]).then(() => expect(erasureStarted, 'the second scavenge reported progress').to.equal(true));
      },
    });
    await running;
    runningEnded = true;
    expect(erasure, 'the delete and the second scavenge were asked for').to.not.equal(undefined);
    await erasure;
  },
);

Then('the scavenge asked for after the delete started once the running one had ended', function (this: EventfoldWorld) {
  expect(calls(this).erasureStartedAfterRunning).to.equal(true);
});

When('a scavenge runs and the store is closed after its first segment', async function (this: EventfoldWorld) {
  const store = this.store!;
  let closing: Promise<void> | undefined;
  scavenges(this).stopped = await store.scavenge({ onProgress: () => void (closing ??= store.close()) }).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  await closing;
});

/** A scavenge close() stopped (file log: between segments; PostgreSQL: between batches) says so instead of resolving as if complete. */
Then('the scavenge was rejected with a StoreClosedError saying {string}', function (this: EventfoldWorld, text: string) {
  const { result, error } = scavenges(this).stopped!;
  expect(result, 'the scavenge close() stopped resolved as if it had finished').to.equal(undefined);
  expect((error as Error)?.name, String(error)).to.equal('StoreClosedError');
  expect((error as Error).message).to.contain(text);
});

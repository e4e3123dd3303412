import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { CountingFileSystem } from '../support/counting-file-system';
import { collect, numberedEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The files of `dir` this process holds open right now, as the kernel lists them (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  if (!existsSync('/proc/self/fd')) throw new Error('this check needs /proc/self/fd (Linux) to list the open files of the process');
  const files: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) files.push(target.slice(dir.length + 1));
    } catch {
      // The descriptor of the directory listing itself, closed meanwhile.
    }
  }
  return files.sort();
}

/** The file layer that counts the handles the store opens and closes. */
const openFiles = scenarioState(() => ({ fs: undefined as CountingFileSystem | undefined }));

Given('a new store with a projection on the real disk', async function (this: EventfoldWorld) {
  this.storeOptions.projections = {
    counts: { initialState: {} as Record<string, number>, version: 1, evolve: (draft: Record<string, number>, e: { stream: string }) => void (draft[e.stream] = (draft[e.stream] ?? 0) + 1) },
  };
  const files = (openFiles(this).fs = new CountingFileSystem());
  await this.openStore({ fs: files });
});

When('{int} events are appended in appends of {int} over {int} streams', async function (this: EventfoldWorld, count: number, per: number, streams: number) {
  for (let done = 0; done < count; done += per) {
    await this.store!.append(`stream-${(done / per) % streams}`, numberedEvents(per, done));
  }
});

When('two readers read every event at the same time', async function (this: EventfoldWorld) {
  const [a, b] = await Promise.all([collect(this.store!.readAll()), collect(this.store!.readAll())]);
  expect([a.length, b.length]).to.deep.equal([this.store!.position + 1, this.store!.position + 1]);
});

When('two subscriptions deliver every event at the same time', async function (this: EventfoldWorld) {
  const subscriptions = await Promise.all(['first', 'second'].map((name) => this.store!.subscribe(name, () => undefined, { from: -1 })));
  await Promise.all(subscriptions.map((s) => s.waitFor(this.store!.position)));
  await Promise.all(subscriptions.map((s) => s.stop()));
});

When('every stream is read backward', async function (this: EventfoldWorld) {
  for (const stream of this.store!.streams()) await collect(this.store!.readStream(stream, { direction: 'backward' }));
});

When('the store is opened again and every event is read twice at the same time', async function (this: EventfoldWorld) {
  await this.openStore({ fs: openFiles(this).fs });
  const [a, b] = await Promise.all([collect(this.store!.readAll()), collect(this.store!.readAll())]);
  expect([a.length, b.length]).to.deep.equal([this.store!.position + 1, this.store!.position + 1]);
});

Then('the process has files of the store open', function (this: EventfoldWorld) {
  // Shows that the check below sees the store's files when they are open.
  expect(openFilesUnder(this.storeDir)).to.include.members(['log/00000000000000000000.seg']);
});

Then('the process has no file of the store open', function (this: EventfoldWorld) {
  expect([...openFiles(this).fs!.stillOpen.values()], 'handles opened and never closed').to.deep.equal([]);
  expect(openFilesUnder(this.storeDir), 'files the kernel lists as open').to.deep.equal([]);
});

import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { AppendResult, ExpectedVersion } from '../src/index';
import { appendVia, parseExpectation } from './storage.steps';
import type { EventfoldWorld } from './support/world';

/** '"a", "b" and "c"' → events with those ids */
function eventsWithIds(list: string) {
  return [...list.matchAll(/"([^"]+)"/g)].map((m, i) => ({ id: m[1], type: 'Placed', data: { line: i } }));
}

Given(/^"([^"]+)" appended the events (.+) expecting (.+)$/, async function (this: EventfoldWorld, stream: string, ids: string, expectation: string) {
  this.memo.firstResult = await this.store!.append(stream, eventsWithIds(ids), { expectedVersion: parseExpectation(expectation) });
});

When(/^"([^"]+)" appends the events (.+?)(?: again)? expecting (.+)$/, async function (this: EventfoldWorld, stream: string, ids: string, expectation: string) {
  await appendVia(this, stream, eventsWithIds(ids), parseExpectation(expectation));
});

When('{string} sends the events {string} and {string} twice at the same time, expecting no stream', async function (this: EventfoldWorld, stream: string, a: string, b: string) {
  const send = () => this.store!.append(stream, eventsWithIds(`"${a}" and "${b}"`), { expectedVersion: 'no_stream' as ExpectedVersion });
  this.memo.both = await Promise.all([send(), send()]);
});

Then('the retry returns position {int} and version {int}, like the first attempt', function (this: EventfoldWorld, position: number, version: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.lastResult).to.deep.equal({ position, version });
  expect(this.lastResult).to.deep.equal(this.memo.firstResult);
});

Then('both appends return position {int} and version {int}', function (this: EventfoldWorld, position: number, version: number) {
  expect(this.memo.both as AppendResult[]).to.deep.equal([{ position, version }, { position, version }]);
});

import { After, Given, Then } from '@cucumber/cucumber';
import { expect } from 'chai';
import { collect } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Reads that a stream's retention limits, with this process's clock set back meanwhile. */
const retentionReads = scenarioState(() => ({
  /** Puts Date.now back to the real clock (also after a failed scenario). */
  restoreClock: undefined as (() => void) | undefined,
}));

// Both logs stamp an event with the appending process's clock: an NTP step back, or a second machine whose clock is behind.
Given(/^the clock is set back by (\d+) hours?$/, function (this: EventfoldWorld, hours: string) {
  const state = retentionReads(this);
  state.restoreClock?.();
  const realNow = Date.now;
  const shift = Number(hours) * 3_600_000;
  Date.now = () => realNow() - shift;
  state.restoreClock = () => (Date.now = realNow);
});

Given('the clock is right again', function (this: EventfoldWorld) {
  const state = retentionReads(this);
  state.restoreClock?.();
  state.restoreClock = undefined;
});

After(function (this: EventfoldWorld) {
  retentionReads(this).restoreClock?.();
});

Then(/^reading "([^"]+)" (forward|backward) with a limit of (\d+) returns versions (.+)$/, async function (this: EventfoldWorld, stream: string, direction: 'forward' | 'backward', limit: string, list: string) {
  const versions = (await collect(this.store!.readStream(stream, { direction, limit: Number(limit) }))).map((e) => e.version);
  expect(versions).to.deep.equal(list.split(/, | and /).map(Number));
});

import { Given, Then } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { EventfoldWorld } from '../support/world';

Given(
  '{string} has an event {string} holding a count of 12345678901234567890 as a bigint, the tags {string} and {string} as a Set and the bytes {int}, {int}, {int} as a Uint8Array',
  async function (this: EventfoldWorld, stream: string, type: string, a: string, b: string, x: number, y: number, z: number) {
    // The count as written in the scenario (a number that large loses digits as a JS number).
    const count = 12345678901234567890n;
    await this.store!.append(stream, [{ type, data: { count, tags: new Set([a, b]), bytes: new Uint8Array([x, y, z]) } }]);
  },
);

Then(/^the command exits with 0 and prints the event's data as (.*)$/, function (this: EventfoldWorld, printed: string) {
  const result = this.cli!;
  expect(result.status, result.stderr).to.equal(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines).to.have.length(1);
  const data = lines[0].startsWith('{') ? JSON.stringify((JSON.parse(lines[0]) as { data: unknown }).data) : lines[0].split('\t')[3];
  expect(data).to.equal(printed);
});

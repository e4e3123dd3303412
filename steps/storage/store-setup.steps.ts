import { Given, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { SimulatedDisk, type StoreOptions } from '../../src/index';
import type { EventfoldWorld } from '../support/world';

/**
 * The store's setup, said once: the disk the scenarios run on, and the
 * options of a new store as a table of `StoreOptions` names and values
 * (`16 KiB`, `4 MiB` for sizes), the same names the README documents.
 *
 *   Given a new store with:
 *     | segmentSize   | 4 KiB |
 *     | keepSnapshots | 1     |
 *
 * ("a new store on a simulated disk with:" also puts it on a simulated disk.)
 * A new option of a scenario goes in that table, not in a Given of its own.
 */
const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 * 1024 };

/** The options a table may set, and how each value is read. */
const OPTION_VALUES: Partial<Record<keyof StoreOptions, (text: string) => unknown>> = {
  durability: (text) => text,
  segmentSize: size,
  maxBatchEvents: Number,
  maxBatchBytes: size,
  maxBatchDelayMs: Number,
  maxQueueEvents: Number,
  maxEventBytes: size,
  repair: (text) => text,
  snapshotEvery: Number,
  snapshotEveryBytes: size,
  keepSnapshots: Number,
  verifyOnOpen: (text) => text,
};

function size(text: string): number {
  const match = /^(\d+)(?: (KiB|MiB))?$/.exec(text.trim());
  expect(match, `a size like "16 KiB", got "${text}"`).to.not.equal(null);
  return Number(match![1]) * (match![2] ? UNITS[match![2]] : 1);
}

/** Reads a two-column table of option names and values into StoreOptions. */
export function storeOptionsFrom(table: DataTable): StoreOptions {
  const options: Record<string, unknown> = {};
  for (const [name, text] of table.raw()) {
    const read = OPTION_VALUES[name as keyof StoreOptions];
    expect(read, `a store option the table can set (${Object.keys(OPTION_VALUES).join(', ')}), got "${name}"`).to.not.equal(undefined);
    options[name] = read!(text);
  }
  return options as StoreOptions;
}

Given('the store lives on a simulated disk', function (this: EventfoldWorld) {
  this.disk = new SimulatedDisk();
});

Given(/^a new store( on a simulated disk)? with:$/, async function (this: EventfoldWorld, simulated: string | null, table: DataTable) {
  if (simulated) this.disk = new SimulatedDisk();
  Object.assign(this.storeOptions, storeOptionsFrom(table));
  await this.openStore();
});

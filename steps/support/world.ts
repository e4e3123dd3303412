import { After, Before, setDefaultTimeout, setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { EventStore, SimulatedDisk, type AppendResult, type StoreOptions, type Subscription } from '../../src/index';
import { FIGURES_MEDIA_TYPE, type Figure } from '../report/living-doc';
import { createScenarioDatabase, databaseUrl, dropScenarioDatabase, onPostgres } from './postgres';

export { FIGURES_MEDIA_TYPE, type Figure };

/** A finished `eventfold` command-line run. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A subscription a scenario started, and the positions its handler was given. */
export interface RunningSubscription {
  subscription: Subscription;
  handled: number[];
}

setDefaultTimeout(120_000);

/**
 * One scenario's world: its own temporary directory (removed afterwards), the
 * store under test, and whatever the last action returned or threw.
 */
export class EventfoldWorld extends World {
  readonly dir: string;
  store?: EventStore;
  /** Set when the scenario runs on a simulated disk instead of the real one. */
  disk?: SimulatedDisk;
  storeOptions: StoreOptions = {};
  lastResult?: AppendResult;
  lastError?: unknown;
  /** Acknowledged appends, in acknowledgement order. */
  acknowledged: Array<AppendResult & { stream: string; count: number }> = [];
  children: ChildProcess[] = [];

  // Values that steps of several concerns hand to each other. A concern's
  // own values are typed in its `scenarioState` (support/scenario-state.ts),
  // a child writer's in support/writer-acks.ts.
  /** The last `eventfold` command-line run (CLI, backup, subscription and lifecycle steps). */
  cli?: CliRun;
  /** Subscriptions started by name (subscription, subscription-lifecycle and PostgreSQL steps). */
  readonly subscriptions = new Map<string, RunningSubscription>();
  /** The log's size in bytes before an action that must write nothing (storage, input and data-model steps). */
  logBytesBefore?: number;
  /** How each of many appends made at once ended (concurrency, storage and I/O-error steps). */
  appendOutcomes?: PromiseSettledResult<AppendResult>[];
  /** Pid of the child process that owns the store, or owned it until it was killed (crash, ownership, read-only and lock steps). */
  childOwnerPid?: number;
  /** How many events a reader saw before the store's last append was torn (read-only and CLI steps). */
  eventsBeforeTear?: number;
  /** The files under a directory and their hashes, before something that must change none of them (support/file-hashes.ts). */
  filesBefore?: { dir: string; hashes: Record<string, string> };
  /** On the PostgreSQL run (profile `postgres`): this scenario's own database. */
  database?: string;

  constructor(options: IWorldOptions) {
    super(options);
    const root = join(tmpdir(), 'eventfold-features');
    mkdirSync(root, { recursive: true });
    this.dir = mkdtempSync(join(root, 'scenario-'));
  }

  /** The store directory: on the simulated disk a path of its own, else the temp dir. */
  get storeDir(): string {
    // On the PostgreSQL run a step that reaches for the directory would quietly test the file log.
    if (this.database) throw new Error('this step works on the store directory: tag its scenario @file-only, or use storeLocation');
    return this.disk ? '/store' : join(this.dir, 'store');
  }

  /** True on the PostgreSQL run: stores open on this scenario's database instead of a directory. */
  get onPostgres(): boolean {
    return onPostgres(this.parameters);
  }

  /** Where the store under test lives: its directory, or on the PostgreSQL run its database's URL. */
  get storeLocation(): string {
    return this.database ? databaseUrl(this.database) : this.storeDir;
  }

  async openStore(options: StoreOptions = {}): Promise<EventStore> {
    this.store = await EventStore.open(this.storeLocation, { ...this.storeOptions, ...options, ...(this.disk ? { fs: this.disk } : {}) });
    return this.store;
  }

  /** Runs an action and keeps its error instead of failing the step. */
  async capture<T>(action: () => Promise<T>): Promise<T | undefined> {
    this.lastError = undefined;
    try {
      return await action();
    } catch (error) {
      this.lastError = error;
      return undefined;
    }
  }

  /** Attaches measured figures so that they appear in the reports. */
  async figures(...figures: Figure[]): Promise<void> {
    await this.attach(JSON.stringify(figures), FIGURES_MEDIA_TYPE);
  }
}

setWorldConstructor(EventfoldWorld);

Before(async function (this: EventfoldWorld) {
  this.acknowledged = [];
  if (this.onPostgres) this.database = await createScenarioDatabase();
});

After(async function (this: EventfoldWorld) {
  for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (this.store && !this.disk?.isDead) await this.store.close().catch(() => undefined);
  if (this.database) await dropScenarioDatabase(this.database);
  rmSync(this.dir, { recursive: true, force: true });
});

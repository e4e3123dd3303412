import { After, Before, setDefaultTimeout, setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { EventStore, SimulatedDisk, type AppendResult, type StoreOptions } from '../../src/index';
import { FIGURES_MEDIA_TYPE, type Figure } from '../report/living-doc';
import { createScenarioDatabase, databaseUrl, dropScenarioDatabase, onPostgres } from './postgres';

export { FIGURES_MEDIA_TYPE, type Figure };

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
  /**
   * Values that steps of different concerns hand to each other (a CLI run's
   * result, a child writer). A concern's own values are typed in its
   * `scenarioState` (support/scenario-state.ts), not here.
   */
  memo: Record<string, unknown> = {};
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

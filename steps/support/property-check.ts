import fc from 'fast-check';
import { scenarioState } from './scenario-state';
import type { EventfoldWorld } from './world';

/**
 * Property runs: EVENTFOLD_PROPERTY_RUNS cases each (the feature's number
 * otherwise); EVENTFOLD_PROPERTY_SEED (and EVENTFOLD_PROPERTY_PATH) replay a
 * failure exactly — a failing run prints both.
 */

/** How many runs fast-check made in this scenario's property checks. */
export const propertyChecks = scenarioState(() => ({ runs: 0 }));

function settings(defaultRuns: number): { numRuns: number; seed: number; path?: string } {
  const runs = Number(process.env.EVENTFOLD_PROPERTY_RUNS || defaultRuns);
  const seed = process.env.EVENTFOLD_PROPERTY_SEED ? Number(process.env.EVENTFOLD_PROPERTY_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  return { numRuns: runs, seed, path: process.env.EVENTFOLD_PROPERTY_PATH || undefined };
}

/** Runs a property, attaching runs and seed as figures; a failure names the seed and path to replay it. */
export async function check(world: EventfoldWorld, property: fc.IAsyncPropertyWithHooks<unknown> | fc.IAsyncProperty<unknown>, defaultRuns: number): Promise<void> {
  const run = settings(defaultRuns);
  const details = await fc.check(property as fc.IAsyncProperty<unknown>, { ...run, endOnFailure: false });
  await world.figures({ name: 'generated cases', value: details.numRuns, unit: 'cases' }, { name: 'fast-check seed', value: run.seed, unit: 'seed' });
  world.log(`fast-check seed ${run.seed}: EVENTFOLD_PROPERTY_SEED=${run.seed} npm run properties runs these cases again`);
  if (details.failed) {
    throw new Error(
      `${fc.defaultReportMessage(details)}\nReplay with: EVENTFOLD_PROPERTY_SEED=${details.seed} EVENTFOLD_PROPERTY_PATH=${details.counterexamplePath} npm run properties`,
    );
  }
  propertyChecks(world).runs = details.numRuns;
}


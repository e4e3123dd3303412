/**
 * `eventfold/emmett` for require(): Emmett's EventStore over an eventfold
 * store, built with the CommonJS Emmett that require() loads.
 */
import * as emmett from '@event-driven-io/emmett';
import { eventfoldEventStoreFactory } from './emmett/adapter';

export type { EventfoldEventStore } from './emmett/adapter';

/** Emmett's `EventStore` over an open eventfold store (see src/emmett/adapter.ts for the mapping). */
export const getEventfoldEventStore = eventfoldEventStoreFactory(emmett);

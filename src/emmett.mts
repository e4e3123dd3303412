/**
 * `eventfold/emmett` for import: the same adapter, built with the Emmett ES
 * module that import loads, so the conflict errors it throws are instances of
 * the application's own ExpectedVersionConflictError class.
 */
import * as emmett from '@event-driven-io/emmett';
import { eventfoldEventStoreFactory } from './emmett/adapter.js';

export type { EventfoldEventStore } from './emmett/adapter.js';

/** Emmett's `EventStore` over an open eventfold store (see src/emmett/adapter.ts for the mapping). */
export const getEventfoldEventStore = eventfoldEventStoreFactory(emmett);

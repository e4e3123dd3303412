import type { RecordedEvent, ScavengeProgress, ScavengeResult } from '../../src/index';
import type { TableSize } from './postgres-tables';
import { scenarioState } from './scenario-state';

/**
 * What the scavenge steps of both logs hand each other (steps/lifecycle/
 * scavenge*.steps.ts, steps/postgres/scavenge.steps.ts): the store as it was
 * before a scavenge, the scavenge's outcome, and the text a scenario marked
 * a stream's events with.
 */
export const scavenges = scenarioState(() => ({
  /** Every event reads returned before the scavenge (then also those appended after it). */
  keptBefore: undefined as RecordedEvent[] | undefined,
  /** The file log's size before the scavenge. */
  logBytesBefore: undefined as number | undefined,
  /** PostgreSQL: the events table's size before the scavenge. */
  tableBefore: undefined as TableSize | undefined,
  /** What the last scavenge reported. */
  scavenge: undefined as ScavengeResult | undefined,
  progress: undefined as ScavengeProgress[] | undefined,
  /** A text some events hold, to look for in every file (or row) after an erasing scavenge, and the stream holding it. */
  marker: undefined as string | undefined,
  markerStream: undefined as string | undefined,
  /** How a scavenge the store was closed during ended: what it resolved with, or rejected with. */
  stopped: undefined as { result?: ScavengeResult; error?: unknown } | undefined,
  /** The segment a scenario damaged, that the checks must name. */
  damagedSegment: undefined as string | undefined,
}));

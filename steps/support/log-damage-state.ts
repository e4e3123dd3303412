import type { RecordSpan } from './damage';
import { scenarioState } from './scenario-state';

/** A record a scenario damaged on purpose: where it is, its CRC before, and the segment's bytes after. */
export interface DamagedRecord {
  path: string;
  span: RecordSpan;
  storedCrc: number;
  damaged: Buffer;
}

/** What the steps that damage a log and judge the open afterwards share (recovery, tail, repair, CLI). */
export const logDamage = scenarioState(() => ({
  damage: undefined as DamagedRecord | undefined,
  /** The last record of the log before a step cut or flipped it. */
  lastRecord: undefined as RecordSpan | undefined,
  /** The segment (path inside the store) a step left ending in the middle of an append. */
  incompleteSegment: undefined as string | undefined,
  /** For work measured over an open: record body bytes CRC'd before it, and the log's size. */
  bodyBytesBefore: 0,
  logBytes: 0,
}));

/**
 * Event payloads in PostgreSQL: msgpack with the file log's own codec (see
 * SCHEMA.md), so that every value of the data model reads back exactly on
 * both logs.
 */
import type { RecordedEvent } from '../api';
import { payloadCodec } from '../log/payload-codec';

export function pack(value: unknown): Buffer {
  return payloadCodec.pack(value);
}

export function unpack(bytes: Buffer): unknown {
  return payloadCodec.unpack(bytes);
}

/** A row of eventfold_events as the queries of this module select it. */
export interface EventRow {
  position: number;
  stream: string;
  version: number;
  type: string;
  id: string;
  timestamp_ms: number;
  data: Buffer;
  metadata: Buffer | null;
}

export const EVENT_COLUMNS = 'position, stream, version, type, id, timestamp_ms, data, metadata';

export function eventOf(row: EventRow): RecordedEvent {
  return {
    position: row.position,
    stream: row.stream,
    version: row.version,
    type: row.type,
    data: unpack(row.data),
    metadata: row.metadata === null ? null : unpack(row.metadata),
    id: row.id,
    timestamp: row.timestamp_ms,
  } as RecordedEvent;
}

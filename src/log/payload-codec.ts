import { Packr } from 'msgpackr';

/**
 * The msgpack settings of event payloads (FORMAT.md, "Payload") and of
 * snapshotted projection states, so both follow the same data model.
 *
 * Plain arrays and maps only: no shared record structures, so every record
 * decodes on its own (needed to read from any offset and to salvage data).
 * moreTypes: typed arrays, ArrayBuffer, Set and bigints beyond 64 bits keep
 * their exact type (msgpack extensions); copyBuffers: binary data read back
 * is its own copy, not a view of a read buffer. useToJSON false: a `toJSON`
 * key is data like any other (validation lets no class instance through, so
 * no toJSON method is ever wanted); with it on, an object whose own
 * `constructor` key hides Object's had its `toJSON` called, so a non-function
 * one failed here while src/validate/pack-plain-data.ts stored the object.
 */
export const payloadCodec = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, copyBuffers: true, useToJSON: false });

/**
 * An event's payload already encoded with these settings (by validateEvents,
 * src/validate/pack-plain-data.ts), as a record holds it: bytes
 * `payloadStart` … `payloadEnd`-1 of `packed`. Without metadata it is the
 * data alone (`dataStart` = `payloadStart`); with metadata it is the array
 * `[data, metadata]`: one byte (a msgpack array of 2), the data
 * (`dataStart` … `dataEnd`-1), then the metadata (`dataEnd` … `payloadEnd`-1).
 * The `room` bytes before `payloadStart` are free for the log (the start of
 * the event's record), and begin right after the previous event's payload.
 */
export interface PackedPayload {
  packed: Buffer;
  room: number;
  payloadStart: number;
  dataStart: number;
  dataEnd: number;
  payloadEnd: number;
}

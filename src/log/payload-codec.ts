import { Packr } from 'msgpackr';

/**
 * The msgpack settings of event payloads (FORMAT.md, "Payload") and of
 * snapshotted projection states, so both follow the same data model.
 *
 * Plain arrays and maps only: no shared record structures, so every record
 * decodes on its own (needed to read from any offset and to salvage data).
 * moreTypes: typed arrays, ArrayBuffer, Set and bigints beyond 64 bits keep
 * their exact type (msgpack extensions); copyBuffers: binary data read back
 * is its own copy, not a view of a read buffer.
 */
export const payloadCodec = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, copyBuffers: true });

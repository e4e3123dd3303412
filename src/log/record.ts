// A record of the log (FORMAT.md beside this file, "Record"), one job per module:
//   record-layout.ts   the fields' offsets and sizes, flags, limits
//   encode-record.ts   framing an append (arena.ts, id-pool.ts) and sealing it
//   check-record.ts    the checks before anything trusts a record
//   decode-record.ts   header fields and events back out
//   payload-codec.ts   the msgpack settings of event data
// This index re-exports them for code that wants the whole record.
export * from './record-layout';
export { checkFrame, checkHeader, checkWork, headerCrcOf, isValidHeader, wholeRecordLength, type FrameCheck } from './check-record';
export { decodeAppend, decodeEvent, decodeHeader, type RecordedEvent, type RecordHeader } from './decode-record';
export { frameAppend, recordRoomBefore, sealAppend, type EventToFrame, type FramedAppend } from './encode-record';

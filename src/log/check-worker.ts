import { parentPort } from 'node:worker_threads';
import { wholeRecordLength } from './check-record';
import { FRAME_HEADER_BYTES } from './record-layout';
import { ABANDONED, CHECKED_END, DONE, type CheckRequest } from './checks-ahead';

// The worker thread of checks-ahead.ts: walks the records of a block a
// replay read, from its first byte, with the very checks the reader makes
// (wholeRecordLength: plausible header, header CRC, length within the file,
// body CRC), and publishes how far every record passed. It stops at the
// first record that does not pass (or is cut by the block's end): from
// there the reader checks for itself and names what it finds.

/** Records checked between two publications of the progress. */
const PUBLISH_EVERY = 32;

parentPort!.on('message', (request: CheckRequest) => {
  const bytes = Buffer.from(request.bytes, 0, request.length);
  const progress = request.progress;
  const { segmentEnd, offset } = request;
  let rel = 0;
  let unpublished = 0;
  while (rel < bytes.length) {
    const length = wholeRecordLength(bytes, rel, segmentEnd - (offset + rel), offset + rel);
    if (length < 0) break;
    rel += FRAME_HEADER_BYTES + length;
    if (++unpublished === PUBLISH_EVERY) {
      unpublished = 0;
      if (Atomics.load(progress, ABANDONED) !== 0) break;
      Atomics.store(progress, CHECKED_END, rel);
    }
  }
  Atomics.store(progress, CHECKED_END, rel);
  Atomics.store(progress, DONE, 1);
  Atomics.notify(progress, DONE);
});

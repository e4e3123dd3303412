import { checkFrame, FIXED_RECORD_BYTES, FRAME_HEADER_BYTES } from '../log/record';

/**
 * Counts the well-formed records found anywhere in `bytes` (cut or
 * quarantined bytes, which a repair reports), resynchronising byte by byte
 * past damage: a header is checked before any body is CRC'd, so the cost is
 * linear.
 */
export function countValidRecords(bytes: Buffer): number {
  let count = 0;
  let at = 0;
  // A body is CRC'd only past every body already CRC'd, so each byte is CRC'd
  // once at most, whatever the bytes hold (many headers claiming long bodies);
  // a record inside a span already found bad is not counted.
  let checkedUntil = 0;
  while (at + FIXED_RECORD_BYTES <= bytes.length) {
    if (at < checkedUntil) {
      at++;
      continue;
    }
    const check = checkFrame(bytes, at, bytes.length - at);
    if (check.kind === 'ok') {
      count++;
      at += FRAME_HEADER_BYTES + check.length;
      checkedUntil = at;
    } else {
      // Only a body that was CRC'd (its header passed, it fits in the bytes) sets the mark; other checks cost nothing.
      if (check.kind === 'bad' && check.bodyLength !== undefined) checkedUntil = at + FRAME_HEADER_BYTES + check.bodyLength;
      at++;
    }
  }
  return count;
}

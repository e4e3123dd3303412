/**
 * The events of the scale run, derived from their position so that nothing
 * has to be remembered to check them: append i holds positions 10i … 10i+9
 * and goes to stream (i × m) mod S, where S = events / 100 streams and m is
 * coprime with S, so appends visit the streams in a fixed shuffled order and
 * every stream receives one append per round of S appends.
 */
export const EVENTS_PER_APPEND = 10;
export const EVENTS_PER_STREAM = 100;

export interface ScaleWorkload {
  events: number;
  streams: number;
  appends: number;
  multiplier: number;
}

export function scaleWorkload(events: number): ScaleWorkload {
  if (!Number.isSafeInteger(events) || events < 1000 || events % EVENTS_PER_STREAM !== 0) {
    throw new Error(`EVENTFOLD_SCALE must be a whole number of events >= 1000 and a multiple of ${EVENTS_PER_STREAM}, got ${events}`);
  }
  const streams = events / EVENTS_PER_STREAM;
  let multiplier = 7919;
  while (gcd(multiplier, streams) !== 1) multiplier += 2;
  return { events, streams, appends: events / EVENTS_PER_APPEND, multiplier };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function streamOfAppend(w: ScaleWorkload, append: number): string {
  return `stream-${((append % w.streams) * w.multiplier) % w.streams}`;
}

/** The event expected at `position` (type and data). */
export function eventAt(position: number): { type: string; data: { n: number; amount: number; note: string } } {
  return { type: position % 4 === 0 ? 'Withdrawn' : 'Deposited', data: { n: position, amount: position % 1000, note: 'scale run' } };
}

/** Its stream and version. */
export function placeOf(w: ScaleWorkload, position: number): { stream: string; version: number } {
  const append = Math.floor(position / EVENTS_PER_APPEND);
  const round = Math.floor(append / w.streams);
  return { stream: streamOfAppend(w, append), version: round * EVENTS_PER_APPEND + (position % EVENTS_PER_APPEND) };
}

/** What the "totals" projection must hold after `events` events. */
export function expectedTotals(events: number): { events: number; amount: number; withdrawals: number } {
  const cycles = Math.floor(events / 1000);
  const rest = events % 1000;
  return { events, amount: cycles * 499_500 + (rest * (rest - 1)) / 2, withdrawals: Math.ceil(events / 4) };
}

export const totalsProjection = {
  version: 1,
  initialState: { events: 0, amount: 0, withdrawals: 0 },
  evolve(draft: { events: number; amount: number; withdrawals: number }, event: { type: string; data: unknown }) {
    draft.events++;
    draft.amount += (event.data as { amount: number }).amount;
    if (event.type === 'Withdrawn') draft.withdrawals++;
  },
};

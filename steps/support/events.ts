import type { EventInput, EventStore, RecordedEvent } from '../../src/index';

/** Events whose content can be derived from their sequence number, so nothing must be remembered to check them. */
export function numberedEvents(count: number, firstSeq = 0, type = 'Deposited'): EventInput[] {
  const events: EventInput[] = [];
  for (let i = 0; i < count; i++) events.push({ type, data: { seq: firstSeq + i, amount: (firstSeq + i) % 97 } });
  return events;
}

export async function collect(iterable: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

export async function readAllEvents(store: EventStore): Promise<RecordedEvent[]> {
  return collect(store.readAll());
}

/** Throws unless positions run 0, 1, 2, … with no gap or repeat. */
export function assertGapless(events: RecordedEvent[]): void {
  events.forEach((event, index) => {
    if (event.position !== index) throw new Error(`position ${event.position} found at index ${index}: the log has a gap or repeat`);
  });
}

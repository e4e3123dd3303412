import { expect } from 'chai';
import type { RecordedEvent } from '../../src/index';
import type { ChildLines } from './child-lines';
import { scenarioState } from './scenario-state';
import type { EventfoldWorld } from './world';

/** An append the writer child acknowledged: its stream's events firstSeq.. (data.seq equals the version) ending at `position`. */
export interface Ack {
  stream: string;
  firstSeq: number;
  count: number;
  position: number;
}

/**
 * The child writer a scenario runs beside (started by the read-only steps,
 * used by the CLI, backup and ownership steps): its output lines, its pid,
 * and the appends it acknowledged, in order.
 */
export const writerChild = scenarioState(() => ({
  lines: undefined as ChildLines | undefined,
  pid: 0,
  acks: [] as Ack[],
}));

export function writerAcks(world: EventfoldWorld): Ack[] {
  return writerChild(world).acks;
}

/** The writer's output, once it was started. */
export function writerLines(world: EventfoldWorld): ChildLines {
  const { lines } = writerChild(world);
  if (!lines) throw new Error('no writer process: Given a writer process that appends to the store and reports each acknowledged append');
  return lines;
}

/** Resolves once the writer has acknowledged an event at `position` or later. */
export function writerReached(world: EventfoldWorld, position: number): Promise<void> {
  const writer = writerLines(world);
  if (writerAcks(world).some((a) => a.position >= position)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    writer.listeners.push(() => {
      if (writerAcks(world).some((a) => a.position >= position)) resolve();
    });
    writer.child.once('exit', () => reject(new Error('the writer exited')));
  });
}

/** Every acknowledged event must be at its acknowledged position, in its stream, with its sequence number. */
export function expectAcknowledged(events: RecordedEvent[], acks: Ack[], label: string): void {
  const byPosition = new Map(events.map((e) => [e.position, e]));
  for (const ack of acks) {
    for (let i = 0; i < ack.count; i++) {
      const position = ack.position - ack.count + 1 + i;
      const event = byPosition.get(position);
      expect(event, `${label}: acknowledged position ${position}`).to.not.equal(undefined);
      expect([event!.stream, (event!.data as { seq: number }).seq, event!.version], `${label}: position ${position}`).to.deep.equal([ack.stream, ack.firstSeq + i, ack.firstSeq + i]);
    }
  }
}


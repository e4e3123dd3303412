import type { EventfoldWorld } from './world';

/**
 * Typed state for one concern's steps (snapshots, repair, power cuts…) in one
 * scenario: made by `initial` on first use, gone with the scenario's world.
 * Steps of a concern share their values through it (the World holds only
 * what steps of several concerns share), so each value has one declared type
 * and no cast.
 *
 *   const checkpoints = scenarioState(() => ({ taken: [] as CheckpointResult[] }));
 *   checkpoints(this).taken.push(result);
 */
export function scenarioState<T>(initial: () => T): (world: EventfoldWorld) => T {
  const states = new WeakMap<EventfoldWorld, T>();
  return (world) => {
    let state = states.get(world);
    if (state === undefined) {
      state = initial();
      states.set(world, state);
    }
    return state;
  };
}

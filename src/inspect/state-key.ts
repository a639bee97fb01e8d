/**
 * How the inspector names what it counts (pure): an actor's machine, and a state
 * value as one key (`open.idle`), with the test of a key against a state of a chart.
 */
import type { AnyActor } from 'xstate';

/** A machine's id; for other logic, the name it was invoked by (`ticker`), else `anonymous`. */
export function machineOf(ref: AnyActor): string {
  const id = (ref.logic as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string') return id;
  return typeof ref.src === 'string' ? ref.src : 'anonymous';
}

/**
 * A state value as one key: `open.idle` for `{open: 'idle'}`; the leaves of a
 * parallel state joined by `, `. Logic without states (callbacks) is `active`.
 */
export function stateKey(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return 'active';
  const leaves: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const key of Object.keys(node)) {
      const child = node[key];
      const path = prefix + key;
      if (typeof child === 'string') leaves.push(`${path}.${child}`);
      else if (child && typeof child === 'object' && Object.keys(child).length) walk(child as Record<string, unknown>, `${path}.`);
      else leaves.push(path);
    }
  };
  walk(value as Record<string, unknown>, '');
  return leaves.length ? leaves.join(', ') : 'active';
}

/** Whether a state key is `state` or inside it (any leaf of a parallel key). */
export function inState(key: string, state: string): boolean {
  if (key === state || key.startsWith(`${state}.`)) return true;
  return key.includes(', ') && key.split(', ').some((leaf) => leaf === state || leaf.startsWith(`${state}.`));
}

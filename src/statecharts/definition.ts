/**
 * A machine's definition as plain, stable JSON: what `machine.toJSON()` gives, plus
 * each state's `always` transitions (xstate 5's `StateNode.definition` leaves them
 * out), with functions (inline actions, guards, `input`) omitted and object keys
 * sorted, so two exports of the same code are byte-identical.
 *
 * The types below name only what the Mermaid renderer reads; the JSON holds the
 * rest of xstate's definition too (`on`, `tags`, `history`, ...).
 */
import type { AnyStateMachine } from 'xstate';

/** A named action or guard as it appears in a definition. */
export type NamedJSON = string | { type: string };

export interface TransitionJSON {
  eventType: string;
  /** State ids, each `#<id>`; absent or empty for a targetless transition. */
  target?: string[];
  guard?: NamedJSON;
  actions?: NamedJSON[];
  reenter?: boolean;
  /** On delayed transitions: the delay's name or its milliseconds. */
  delay?: string | number;
}

export interface InvokeJSON {
  id: string;
  src: string;
  systemId?: string;
}

export interface StateJSON {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial?: { target: string[] };
  states: Record<string, StateJSON>;
  transitions: TransitionJSON[];
  always?: TransitionJSON[];
  invoke: InvokeJSON[];
  entry: NamedJSON[];
  exit: NamedJSON[];
  /** Document order of the state among all states of the machine (-1 for the root). */
  order: number;
  description?: string;
  /** Set on charts that describe logic which is not a state machine (e.g. `fromCallback`). */
  kind?: 'callback';
}

interface StateNodeLike {
  definition: Record<string, unknown>;
  states: Record<string, StateNodeLike>;
  always?: unknown[];
}

/** The machine's definition with `always`, functions omitted, keys sorted. */
export function machineDefinition(machine: AnyStateMachine): StateJSON {
  return stable(withAlways(machine.root as unknown as StateNodeLike)) as StateJSON;
}

function withAlways(node: StateNodeLike): Record<string, unknown> {
  const { states: _children, ...definition } = node.definition;
  const states: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.states)) states[key] = withAlways(child);
  return node.always?.length ? { ...definition, states, always: node.always } : { ...definition, states };
}

/**
 * JSON semantics (`toJSON` is honoured, `undefined` and functions are dropped, from
 * arrays too rather than turned into null) with object keys in sorted order.
 */
export function stable(value: unknown, seen = new Set<object>(), converted = false): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  // Like JSON.stringify: toJSON once per value (xstate's results carry a toJSON again).
  if (!converted && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return stable((value as { toJSON(): unknown }).toJSON(), seen, true);
  }
  if (seen.has(value)) throw new TypeError('stable: the definition has a cycle');
  seen.add(value);
  let result: unknown;
  if (Array.isArray(value)) {
    result = value.map((item) => stable(item, seen)).filter((item) => item !== undefined);
  } else {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = stable((value as Record<string, unknown>)[key], seen);
      if (item !== undefined) out[key] = item;
    }
    result = out;
  }
  seen.delete(value);
  return result;
}

/** Stable JSON text: two-space indent, trailing newline. */
export function stableJsonText(value: unknown): string {
  return `${JSON.stringify(stable(value), null, 2)}\n`;
}

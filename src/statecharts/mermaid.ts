/**
 * A machine's definition (definition.ts) as a Mermaid `stateDiagram-v2`. Pure: the
 * same definition always gives the same text, states in document order and each
 * state's transitions in the definition's order.
 *
 * What is drawn:
 * - states, nested states as composites (`state "idle" as open_idle` when the Mermaid
 *   id differs from the key), `[*] -->` for initial states, `--> [*]` for final ones;
 * - transitions labelled `event [guard] / action, action` (named guards and actions
 *   only: inline functions have no name worth showing); delayed transitions as
 *   `after <delay>`, `always` as `always`, an invoked actor's completion as
 *   `onDone <src>` / `onError <src>`; a targetless transition as a loop on its
 *   state, a re-entering one marked `(reenter)`;
 * - per state, a description line for its `description`, named entry and exit
 *   actions, and invoked actors (`invoke ticker`);
 * - transitions and invocations of the machine's root (handled in any state) on a
 *   pseudo-state `any state` with the class `anyState`.
 * Each transition is written in the block of the innermost composite that holds both
 * ends, as Mermaid requires for edges that leave a composite.
 */
import type { NamedJSON, StateJSON, TransitionJSON } from './definition.ts';

/** Words Mermaid's state diagram grammar reserves; a state key equal to one gets a suffix. */
const RESERVED = new Set(['default', 'end', 'state', 'note', 'direction', 'class', 'classDef', 'style', 'scale', 'as', 'hide', 'any']);

interface Placed {
  node: StateJSON;
  parent: Placed | undefined;
  /** Mermaid id; for the root, the id of the `any state` pseudo-state. */
  id: string;
  depth: number;
  edges: string[];
}

export function toMermaid(root: StateJSON): string {
  const byStateId = new Map<string, Placed>();
  const used = new Set<string>();
  const place = (node: StateJSON, parent: Placed | undefined, path: string[]): Placed => {
    const placed: Placed = { node, parent, id: parent ? uniqueId(path.join('_'), used) : '', depth: parent ? parent.depth + 1 : 0, edges: [] };
    byStateId.set(node.id, placed);
    for (const child of childrenOf(node)) place(child, placed, [...path, child.key]);
    return placed;
  };
  const top = place(root, undefined, []);
  top.id = uniqueId('any', used, true);

  const hasAny = root.transitions.length > 0 || (root.always?.length ?? 0) > 0 || root.invoke.length > 0;
  for (const placed of byStateId.values()) collectEdges(placed, byStateId);

  const lines = ['stateDiagram-v2'];
  if (hasAny) {
    lines.push('  classDef anyState fill:#f4f4f4,stroke-dasharray:4 4');
    lines.push(`  state "any state" as ${top.id}`);
    lines.push(`  class ${top.id} anyState`);
    for (const line of descriptions(root)) lines.push(`  ${top.id} : ${line}`);
  }
  writeBlock(top, byStateId, lines, '  ');
  return `${lines.join('\n')}\n`;
}

function childrenOf(node: StateJSON): StateJSON[] {
  return Object.values(node.states ?? {}).sort((a, b) => a.order - b.order || (a.key < b.key ? -1 : 1));
}

function uniqueId(wanted: string, used: Set<string>, pseudo = false): string {
  let id = wanted.replace(/[^A-Za-z0-9_]/g, '_');
  if (/^[0-9]/.test(id)) id = `s_${id}`;
  if (!pseudo && RESERVED.has(id)) id += '_';
  let candidate = id;
  for (let n = 2; used.has(candidate); n++) candidate = `${id}_${n}`;
  used.add(candidate);
  return candidate;
}

function writeBlock(block: Placed, byStateId: Map<string, Placed>, lines: string[], indent: string): void {
  const { node } = block;
  const children = childrenOf(node);
  children.forEach((child, i) => {
    const placed = byStateId.get(child.id)!;
    // Mermaid reads `--` (concurrent regions) only inside a composite: a parallel root's regions just stand side by side.
    if (node.type === 'parallel' && i > 0 && block.parent) lines.push(`${indent}--`);
    const label = child.type === 'history' ? `${child.key} (history)` : child.key;
    const aliased = label === placed.id ? undefined : `state "${text(label).replace(/"/g, "'")}" as ${placed.id}`;
    if (childrenOf(child).length) {
      lines.push(`${indent}${aliased ?? `state ${placed.id}`} {`);
      writeBlock(placed, byStateId, lines, indent + '  ');
      lines.push(`${indent}}`);
    } else {
      lines.push(`${indent}${aliased ?? placed.id}`);
    }
    for (const line of descriptions(child)) lines.push(`${indent}${placed.id} : ${line}`);
  });
  // After the declarations: a state is declared before any line refers to it.
  for (const target of node.type === 'parallel' ? [] : (node.initial?.target ?? [])) {
    const placed = byStateId.get(target.replace(/^#/, ''));
    if (placed) lines.push(`${indent}[*] --> ${placed.id}`);
  }
  for (const edge of block.edges) lines.push(`${indent}${edge}`);
  for (const child of children) if (child.type === 'final') lines.push(`${indent}${byStateId.get(child.id)!.id} --> [*]`);
}

function descriptions(node: StateJSON): string[] {
  const lines: string[] = [];
  if (node.description) lines.push(text(node.description));
  const entry = names(node.entry);
  if (entry.length) lines.push(`entry / ${entry.join(', ')}`);
  const exit = names(node.exit);
  if (exit.length) lines.push(`exit / ${exit.join(', ')}`);
  for (const invoke of node.invoke ?? []) lines.push(`invoke ${text(invoke.src)}`);
  return lines;
}

function collectEdges(source: Placed, byStateId: Map<string, Placed>): void {
  const { node } = source;
  for (const transition of [...node.transitions, ...(node.always ?? [])]) {
    const label = transitionLabel(transition, node);
    const targets = (transition.target ?? []).map((t) => byStateId.get(t.replace(/^#/, ''))).filter((t): t is Placed => t !== undefined);
    if (targets.length === 0) targets.push(source);
    for (const target of targets) {
      const reenter = target === source && transition.reenter && transition.target?.length ? '(reenter)' : '';
      const full = [label, reenter].filter(Boolean).join(' ');
      blockOf(source, target).edges.push(`${source.id} --> ${target.id}${full ? ` : ${full}` : ''}`);
    }
  }
}

/** The innermost composite holding both ends (for a loop or a parent-child edge: the outer one's parent). */
function blockOf(a: Placed, b: Placed): Placed {
  const ancestors = new Set<Placed>();
  for (let p = a.parent; p; p = p.parent) ancestors.add(p);
  for (let p = b.parent; p; p = p.parent) if (ancestors.has(p) && p !== a && p !== b) return p;
  let top = a;
  while (top.parent) top = top.parent;
  return top;
}

function transitionLabel(transition: TransitionJSON, source: StateJSON): string {
  let label = eventLabel(transition, source);
  const guard = transition.guard === undefined ? undefined : nameOf(transition.guard);
  if (guard) label += ` [${guard}]`;
  const actions = names(transition.actions ?? []);
  if (actions.length) label += ` / ${actions.join(', ')}`;
  return text(label);
}

function eventLabel(transition: TransitionJSON, source: StateJSON): string {
  const type = transition.eventType;
  if (type === '') return 'always';
  if (type.startsWith('xstate.after.')) {
    const delay = transition.delay ?? type.slice('xstate.after.'.length).split('.')[0];
    return typeof delay === 'number' || /^\d+$/.test(String(delay)) ? `after ${delay} ms` : `after ${delay}`;
  }
  for (const [prefix, word] of [
    ['xstate.done.actor.', 'onDone'],
    ['xstate.error.actor.', 'onError'],
    ['xstate.snapshot.', 'onSnapshot'],
  ] as const) {
    if (type.startsWith(prefix)) {
      const id = type.slice(prefix.length);
      return `${word} ${source.invoke?.find((invoke) => invoke.id === id)?.src ?? id}`;
    }
  }
  if (type.startsWith('xstate.done.state.')) return 'onDone';
  return type;
}

function nameOf(named: NamedJSON): string | undefined {
  const name = typeof named === 'string' ? named : named?.type;
  // Built-ins (xstate.assign, xstate.raise...) and anonymous functions say nothing.
  return name && !name.startsWith('xstate.') ? name : undefined;
}

function names(list: NamedJSON[] | undefined): string[] {
  return (list ?? []).map(nameOf).filter((name): name is string => name !== undefined);
}

/**
 * Mermaid's grammar ends a label at `:` or `;` and reads `#` as the start of a
 * comment (stateDiagram.jison, DESCR token); none of them may appear in one.
 */
function text(value: string): string {
  return value.replace(/[:;]/g, ',').replace(/#/g, '').replace(/\s+/g, ' ').trim();
}

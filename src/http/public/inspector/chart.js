// @ts-check
/**
 * A machine's definition (the JSON the charts endpoint sends, src/statecharts/
 * definition.ts) as the graph the page draws. Pure: no DOM. It draws what the Mermaid
 * export (src/statecharts/mermaid.ts) writes, read from the definition itself:
 * - states in document order, nested states inside their composite, an initial dot
 *   per compound state (none for a parallel one, whose regions stand side by side),
 *   an end dot for final states;
 * - transitions labelled `event [guard] / action, action` (named guards and actions
 *   only), one edge per target, kept in the block of the innermost composite that
 *   holds both ends (the layout ranks a block's children by its edges);
 * - a targetless transition as a line inside its state (`↻ event`), as UML writes
 *   internal transitions;
 * - per state, lines for its description, named entry and exit actions, invoked actors;
 * - what the root handles in every state on a pseudo-state `any state`.
 */

/**
 * @typedef {{ text: string, kind: 'desc' | 'internal' }} Line
 * @typedef {{ from: Node, to: Node, label: string }} Edge
 * @typedef {{
 *   id: string, key: string, label: string, path: string, pseudo: boolean,
 *   parent: Node | undefined, children: Node[], edges: Edge[], initial: Node[], finals: Node[], lines: Line[],
 * }} Node
 * @typedef {string | { type: string }} Named
 * @typedef {{ eventType: string, target?: string[], guard?: Named, actions?: Named[], reenter?: boolean, delay?: string | number }} Transition
 * @typedef {{
 *   id: string, key: string, type: string, order: number, initial?: { target: string[] },
 *   states?: Record<string, StateJSON>, transitions?: Transition[], always?: Transition[],
 *   invoke?: Array<{ id: string, src: string }>, entry?: Named[], exit?: Named[], description?: string,
 * }} StateJSON
 */

export const ANY_STATE = 'any state';

/**
 * The root block of a definition's graph: its children are the machine's top states
 * (and `any state` first, when the root handles anything).
 * @param {StateJSON} definition
 * @returns {Node}
 */
export function chartGraph(definition) {
  const root = node(definition.id, '', '', undefined);
  /** @type {Map<string, Node>} */
  const byStateId = new Map();
  /** @type {Array<[StateJSON, Node]>} */
  const order = [];
  const place = (/** @type {StateJSON} */ state, /** @type {Node} */ parent, /** @type {string} */ prefix) => {
    const label = state.type === 'history' ? `${state.key} (history)` : state.key;
    const placed = node(state.id, state.key, prefix + state.key, parent, label);
    placed.lines.push(...descriptions(state));
    parent.children.push(placed);
    byStateId.set(state.id, placed);
    order.push([state, placed]);
    for (const child of childrenOf(state)) place(child, placed, `${placed.path}.`);
  };

  const handlesAny = (definition.transitions?.length ?? 0) > 0 || (definition.always?.length ?? 0) > 0 || (definition.invoke?.length ?? 0) > 0;
  // What the root handles has no state of its own: it sits on a pseudo-state, drawn aside.
  const any = handlesAny ? node(`${definition.id}#any`, ANY_STATE, ANY_STATE, root, ANY_STATE, true) : undefined;
  if (any) {
    any.lines.push(...descriptions(definition));
    root.children.push(any);
  }
  for (const child of childrenOf(definition)) place(child, root, '');
  byStateId.set(definition.id, any ?? root);

  /** @type {Array<[StateJSON, Node]>} */
  const sources = any ? [[definition, any], ...order] : order;
  for (const [state, source] of sources) addEdges(state, source, byStateId, root);
  /** @type {Array<[StateJSON, Node]>} */
  const blocks = [[definition, root], ...order];
  for (const [state, block] of blocks) {
    // A parallel state enters all its regions: no initial dot.
    if (state.type !== 'parallel') {
      for (const target of state.initial?.target ?? []) {
        const initial = childOf(block, byStateId.get(target.replace(/^#/, '')));
        if (initial) block.initial.push(initial);
      }
    }
    for (const child of childrenOf(state)) if (child.type === 'final') block.finals.push(/** @type {Node} */ (byStateId.get(child.id)));
  }
  return root;
}

/**
 * @param {string} id @param {string} key @param {string} path @param {Node | undefined} parent
 * @param {string} [label] @param {boolean} [pseudo]
 * @returns {Node}
 */
function node(id, key, path, parent, label = key, pseudo = false) {
  return { id, key, label, path, pseudo, parent, children: [], edges: [], initial: [], finals: [], lines: [] };
}

/**
 * The child of `block` that holds `n` (an initial target may lie deeper).
 * @param {Node} block @param {Node | undefined} n
 */
function childOf(block, n) {
  while (n && n.parent !== block) n = n.parent;
  return n;
}

/** @param {StateJSON} state */
function childrenOf(state) {
  return Object.values(state.states ?? {}).sort((a, b) => a.order - b.order || (a.key < b.key ? -1 : 1));
}

/**
 * @param {StateJSON} state @param {Node} source @param {Map<string, Node>} byStateId @param {Node} root
 */
function addEdges(state, source, byStateId, root) {
  for (const transition of [...(state.transitions ?? []), ...(state.always ?? [])]) {
    const label = transitionLabel(transition, state);
    const targets = (transition.target ?? []).map((t) => byStateId.get(t.replace(/^#/, ''))).filter((t) => t !== undefined);
    if (targets.length === 0) targets.push(source);
    for (const target of targets) {
      const reenter = target === source && transition.reenter && transition.target?.length ? '(reenter)' : '';
      const text = [label, reenter].filter(Boolean).join(' ');
      if (target === source) source.lines.push({ text: `\u21bb ${text}`, kind: 'internal' });
      else blockOf(source, target, root).edges.push({ from: source, to: target, label: text });
    }
  }
}

/**
 * The innermost composite holding both ends; for an edge between a composite and a
 * state inside it, the composite's parent.
 * @param {Node} a @param {Node} b @param {Node} root
 */
function blockOf(a, b, root) {
  const ancestors = new Set();
  for (let p = a.parent; p; p = p.parent) ancestors.add(p);
  for (let p = b.parent; p; p = p.parent) if (ancestors.has(p) && p !== a && p !== b) return p;
  return root;
}

/** @param {StateJSON} state @returns {Line[]} */
function descriptions(state) {
  /** @type {string[]} */
  const lines = [];
  if (state.description) lines.push(clean(state.description));
  const entry = names(state.entry);
  if (entry.length) lines.push(`entry / ${entry.join(', ')}`);
  const exit = names(state.exit);
  if (exit.length) lines.push(`exit / ${exit.join(', ')}`);
  for (const invoke of state.invoke ?? []) lines.push(`invoke ${clean(invoke.src)}`);
  return lines.map((text) => ({ text, kind: 'desc' }));
}

/** @param {Transition} transition @param {StateJSON} source */
export function transitionLabel(transition, source) {
  let label = eventLabel(transition, source);
  const guard = transition.guard === undefined ? undefined : nameOf(transition.guard);
  if (guard) label += ` [${guard}]`;
  const actions = names(transition.actions);
  if (actions.length) label += ` / ${actions.join(', ')}`;
  return clean(label);
}

/** @param {Transition} transition @param {StateJSON} source */
function eventLabel(transition, source) {
  const type = transition.eventType;
  if (type === '') return 'always';
  if (type.startsWith('xstate.after.')) {
    const delay = transition.delay ?? type.slice('xstate.after.'.length).split('.')[0];
    return typeof delay === 'number' || /^\d+$/.test(String(delay)) ? `after ${delay} ms` : `after ${delay}`;
  }
  for (const [prefix, word] of [['xstate.done.actor.', 'onDone'], ['xstate.error.actor.', 'onError'], ['xstate.snapshot.', 'onSnapshot']]) {
    if (type.startsWith(prefix)) {
      const id = type.slice(prefix.length);
      return `${word} ${source.invoke?.find((invoke) => invoke.id === id)?.src ?? id}`;
    }
  }
  if (type.startsWith('xstate.done.state.')) return 'onDone';
  return type;
}

/** Built-ins (xstate.assign, xstate.raise...) and anonymous functions say nothing. @param {Named} named */
function nameOf(named) {
  const name = typeof named === 'string' ? named : named?.type;
  return name && !name.startsWith('xstate.') ? name : undefined;
}

/** @param {Named[] | undefined} list @returns {string[]} */
function names(list) {
  return (list ?? []).map(nameOf).filter((name) => name !== undefined);
}

/** @param {string} text */
function clean(text) {
  return text.replace(/\s+/g, ' ').trim();
}

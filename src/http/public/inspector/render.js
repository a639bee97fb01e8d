// @ts-check
/**
 * The page's DOM: the status line, the node selector, the charts (SVG, from
 * layout.js) with a count badge on every state, the live actors grouped by state, one
 * actor's details with its last transitions. It
 * draws what it is given and keeps no state besides the elements it made; the page's
 * CSP allows no inline styles, so sizes go through the CSSOM.
 */

/**
 * @typedef {import('./layout.js').ChartLayout} ChartLayout
 * @typedef {{ countIn(machine: string, path: string): number, live(machine: string): number }} Counted
 * @typedef {{ id: string, label?: string, node?: string }} Listed
 * @typedef {{ machine: string, groups: Array<{ key: string, state: string, count: number, actors: Listed[], more: number }> }} MachineView
 * @typedef {{ at: number, event: string, from: string | null, to: string }} Transition
 * @typedef {{ machine: string, path: string, text: SVGTextElement, box: SVGGElement }} Badge
 * @typedef {{ name: string, description: string, layout: ChartLayout }} DrawnChart
 */

const SVG = 'http://www.w3.org/2000/svg';
const DOT = 7;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {'idle' | 'connecting' | 'live' | 'partial' | 'error'} state @param {string} text */
export function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

/** The value meaning every node in the selector (and in `?node=`). */
export const ALL_NODES = 'all';

/**
 * The node selector: this node first, the other live nodes, then all of them. A
 * chosen node no longer live stays listed (marked), so the choice is not lost.
 * @param {{ self: string, nodes: string[] }} live @param {string} chosen
 */
export function renderNodes({ self, nodes }, chosen) {
  const select = /** @type {HTMLSelectElement} */ ($('node-select'));
  const ids = [self, ...nodes.filter((n) => n !== self)];
  /** @type {Array<[string, string]>} */
  const options = ids.map((id) => [id, id === self ? `${id} (this node)` : id]);
  if (chosen !== ALL_NODES && !ids.includes(chosen)) options.push([chosen, `${chosen} (not live)`]);
  options.push([ALL_NODES, `all nodes (${ids.length})`]);
  select.replaceChildren(...options.map(([value, text]) => el('option', { value, selected: value === chosen }, text)));
  select.disabled = false;
}

/** Calls `onChoose(node)` when another node is chosen. @param {(node: string) => void} onChoose */
export function onNodeChange(onChoose) {
  $('node-select').addEventListener('change', (event) => onChoose(/** @type {HTMLSelectElement} */ (event.target).value));
}

/**
 * Text widths as the charts' CSS font draws them (system-ui), for layout.js.
 * @returns {import('./layout.js').Measure}
 */
export function canvasMeasure() {
  const context = /** @type {CanvasRenderingContext2D} */ (document.createElement('canvas').getContext('2d'));
  return (text, size, weight = 400) => {
    context.font = `${weight} ${size}px system-ui, sans-serif`;
    return context.measureText(text).width;
  };
}

/**
 * One card per chart; returns the count badges to update.
 * @param {DrawnChart[]} charts
 * @returns {Badge[]}
 */
export function renderCharts(charts) {
  /** @type {Badge[]} */
  const badges = [];
  const host = $('charts');
  host.replaceChildren();
  for (const chart of charts) {
    const svg = drawChart(chart.layout, chart.name, badges);
    const card = el('section', { className: 'panel chart', dataset: { machine: chart.name } },
      el('h2', {}, chart.name, ' ', el('span', { className: 'muted', dataset: { liveFor: chart.name } }, '0 live')),
      el('p', { className: 'muted' }, chart.description), svg);
    // As wide as its chart.
    card.style.width = `${Math.max(chart.layout.width, 300)}px`;
    host.append(card);
  }
  return badges;
}

/**
 * The counts on the charts: each state's badge (its nested states included), each chart's live total.
 * @param {Counted} model @param {Badge[]} badges @param {string[]} machines
 */
export function renderCounts(model, badges, machines) {
  for (const badge of badges) {
    const count = model.countIn(badge.machine, badge.path);
    badge.text.textContent = String(count);
    badge.box.classList.toggle('occupied', count > 0);
  }
  for (const machine of machines) {
    const live = document.querySelector(`[data-live-for="${CSS.escape(machine)}"]`);
    if (live) live.textContent = `${model.live(machine)} live`;
  }
}

/**
 * The side list: per machine, its occupied states with their count and a few actors
 * (each with its node, when they come from other nodes).
 * @param {{ machines: MachineView[], total: number }} view @param {(actor: Listed) => boolean} isSelected
 */
export function renderGroups({ machines, total }, isSelected) {
  const groups = $('groups');
  groups.replaceChildren();
  for (const { machine, groups: states } of machines) {
    const section = el('section', { className: 'machine' }, el('h3', {}, machine));
    if (!states.length) section.append(el('p', { className: 'muted' }, 'no live actors'));
    for (const { key, state, count, actors, more } of states) {
      const items = actors.map((actor) => {
        const name = actor.node === undefined ? actor.id : `${actor.node} ${actor.id}`;
        const dataset = actor.node === undefined ? { actorId: actor.id } : { actorId: actor.id, node: actor.node };
        return el('li', {}, el('button', { type: 'button', className: isSelected(actor) ? 'actor selected' : 'actor', dataset },
          actor.label ? `${name} ${actor.label}` : name));
      });
      if (more > 0) items.push(el('li', { className: 'muted' }, `and ${more} more`));
      section.append(
        el('div', { className: 'group', dataset: { group: key } },
          el('div', { className: 'group-head' }, el('span', { className: 'state-name' }, state), el('span', { className: 'count', dataset: { groupCount: key } }, String(count))),
          el('ul', {}, ...items)),
      );
    }
    groups.append(section);
  }
  $('total').textContent = `(${total})`;
}

/**
 * Calls `onPick(id, node)` when an actor of the list is clicked (`node` undefined: this node's stream).
 * @param {(id: string, node: string | undefined) => void} onPick
 */
export function onActorClick(onPick) {
  $('groups').addEventListener('click', (event) => {
    const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest('button[data-actor-id]'));
    if (button?.dataset.actorId) onPick(button.dataset.actorId, button.dataset.node);
  });
}

/**
 * One actor as `GET /api/admin/inspector/actors/<id>` describes it: its state, a
 * summary of its context, and its last transitions, newest first.
 * @param {any} actor @param {string} node
 */
export function renderDetails(actor, node) {
  const rows = [
    ['node', node], ['actor', actor.id], ['machine', actor.machine], ['system id', actor.systemId ?? '-'], ['state', actor.state],
    ['status', actor.status], ['in state since', clock(actor.since)],
    ['events', `${actor.events}${actor.lastEvent ? ` (last: ${actor.lastEvent})` : ''}`], ['children', actor.children.join(', ') || '-'],
  ];
  $('details').replaceChildren(
    el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))])),
    el('pre', { id: 'context' }, JSON.stringify(actor.context, null, 2)),
    transitionsTable(actor.transitions ?? []),
  );
}

/** @param {Transition[]} transitions */
function transitionsTable(transitions) {
  const caption = el('caption', {}, `Last ${transitions.length} transitions`, ' ', el('span', { className: 'muted' }, '(newest first; event types only)'));
  if (!transitions.length) return el('p', { id: 'transitions', className: 'muted' }, 'No transition seen since the inspector began following this actor.');
  const head = el('tr', {}, el('th', {}, 'time'), el('th', {}, 'event'), el('th', {}, 'from'), el('th', {}, 'to'));
  const rows = [...transitions].reverse().map((t) =>
    el('tr', { dataset: { event: t.event } }, el('td', { className: 'time' }, clock(t.at)), el('td', { className: 'event' }, t.event), el('td', {}, t.from ?? '(start)'), el('td', {}, t.to)));
  return el('table', { id: 'transitions' }, caption, el('thead', {}, head), el('tbody', {}, ...rows));
}

/** A time of day to the millisecond, in the browser's zone. @param {number} at */
function clock(at) {
  const date = new Date(at);
  return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** No actor selected (another node was chosen). */
export function renderNoSelection() {
  $('details').replaceChildren(el('p', { className: 'muted' }, 'Click an actor to see its state, a summary of its context and its last transitions.'));
}

/** Details that could not be shown. @param {string} id @param {string} why */
export function renderNoDetails(id, why) {
  $('details').replaceChildren(el('p', { className: 'muted' }, `${id}: ${why}`));
}

/** The selected actor ended: said above its last details. @param {{ id: string, machine: string, status?: string, state: string }} actor */
export function renderEnded(actor) {
  $('details').querySelector('.ended')?.remove();
  $('details').prepend(el('p', { className: 'ended' }, `${actor.id} (${actor.machine}) ended: ${actor.status} in ${actor.state}.`));
}

/**
 * @param {ChartLayout} layout @param {string} machine @param {Badge[]} badges
 * @returns {SVGSVGElement}
 */
function drawChart(layout, machine, badges) {
  const svg = /** @type {SVGSVGElement} */ (svgEl('svg', { class: 'chart-svg', role: 'img', 'aria-label': `statechart of ${machine}` }));
  const marker = `arrow-${machine}`;
  svg.append(svgEl('defs', {}, svgEl('marker', { id: marker, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))));
  const boxes = svgEl('g', {}), edges = svgEl('g', {}), labels = svgEl('g', {});
  svg.append(boxes, edges, labels);
  for (const shape of layout.shapes) {
    if (shape.kind !== 'state') {
      const { cx, cy } = shape;
      if (shape.kind === 'start') boxes.append(svgEl('circle', { cx, cy, r: DOT, class: 'dot' }));
      else boxes.append(svgEl('circle', { cx, cy, r: DOT + 2, class: 'dot-end' }), svgEl('circle', { cx, cy, r: DOT - 2, class: 'dot' }));
      continue;
    }
    const { x, y, w, h } = shape;
    const g = /** @type {SVGGElement} */ (svgEl('g', { class: `${shape.composite ? 'composite' : 'state'}${shape.pseudo ? ' pseudo' : ''}`, 'data-path': shape.path }));
    g.append(svgEl('rect', { x, y, width: w, height: h, rx: 8, class: 'box' }));
    g.append(svgEl('text', { x: x + 10, y: shape.labelY, class: 'label' }, shape.label));
    for (const line of shape.lines) g.append(svgEl('text', { x: x + 10, y: line.y, class: line.kind }, line.text));
    if (!shape.pseudo) {
      const text = /** @type {SVGTextElement} */ (svgEl('text', { x: x + w - 17, y: y + 18, class: 'badge-text', 'data-count-for': `${machine}/${shape.path}` }, '0'));
      g.append(svgEl('rect', { x: x + w - 32, y: y + 6, width: 30, height: 17, rx: 8, class: 'badge' }), text);
      badges.push({ machine, path: shape.path, text, box: g });
    }
    boxes.append(g);
  }
  for (const { s, c, t, label } of layout.edges) {
    edges.append(svgEl('path', { d: `M${s.x},${s.y} Q${c.x},${c.y} ${t.x},${t.y}`, class: 'edge', 'marker-end': `url(#${marker})` }));
    if (label) labels.append(svgEl('text', { x: label.x, y: label.y, class: 'edge-label', 'text-anchor': label.anchor }, label.text));
  }
  svg.setAttribute('viewBox', layout.viewBox.join(' '));
  svg.setAttribute('width', String(layout.width));
  return svg;
}

/**
 * @param {string} tag @param {Record<string, any>} props @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset ?? {});
  node.append(...children);
  return node;
}

/**
 * @param {string} tag @param {Record<string, string | number>} attrs @param {...(Node | string)} children
 * @returns {SVGElement}
 */
function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

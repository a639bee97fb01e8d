// The live inspector page. No data is in the page: everything comes from the admin
// API with the token kept in sessionStorage. The event stream is read with fetch(),
// since EventSource cannot send an Authorization header. Charts are the Mermaid
// text the server generates, drawn here by a small layered layout (no library).

const TOKEN_KEY = 'wsmesh.inspector.token';
const LIST_CAP = 8;
const REFILL_MS = 1000;
const RETRY_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const model = { charts: [], counts: {}, totals: {}, lists: new Map(), where: new Map(), selected: undefined };
const badges = []; // { machine, path, text, box, card }
let abort;
const refillAt = new Map();

class AuthError extends Error {}

// ---- token and connection -------------------------------------------------------

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  connect();
});

$('forget-button').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  abort?.abort();
  setStatus('idle', 'Token forgotten. Enter the admin token to connect.');
});

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token()}` }, cache: 'no-store' });
  if (res.status === 401) throw new AuthError();
  const body = await res.json();
  if (!res.ok) throw new Error(`${body.error ?? res.status}: ${body.message ?? ''}`);
  return body;
}

async function connect() {
  abort?.abort();
  const controller = (abort = new AbortController());
  setStatus('connecting', 'Connecting...');
  try {
    if (!model.charts.length) {
      model.charts = (await api('/api/admin/inspector/charts')).charts;
      renderCharts();
    }
    await stream(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return;
    if (error instanceof AuthError) {
      sessionStorage.removeItem(TOKEN_KEY);
      return setStatus('error', 'The token was refused (ERR_ADMIN_AUTH). Enter the admin token again.');
    }
    console.error(error);
    setStatus('error', `Disconnected (${error.message}); retrying...`);
    setTimeout(() => abort === controller && connect(), RETRY_MS);
  }
}

async function stream(signal) {
  const res = await fetch('/api/admin/inspector/events', { headers: { authorization: `Bearer ${token()}` }, signal, cache: 'no-store' });
  if (res.status === 401) throw new AuthError();
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended');
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!data) return; // a heartbeat
  const message = JSON.parse(data);
  if (event === 'snapshot') onSnapshot(message);
  else if (event === 'batch') onBatch(message);
}

// ---- the model ------------------------------------------------------------------

async function onSnapshot(snapshot) {
  model.counts = snapshot.counts;
  model.totals = snapshot.totals;
  model.lists.clear();
  model.where.clear();
  setStatus('live', `Live since ${new Date(snapshot.at).toLocaleTimeString()}`);
  render();
  const sample = await api('/api/admin/inspector/actors?limit=500');
  for (const actor of sample.actors) place(actor);
  render();
}

function onBatch(batch) {
  model.counts = batch.counts;
  model.totals = batch.totals;
  for (const change of batch.changes) place(change);
  for (const gone of batch.left) unplace(gone.id);
  if (batch.omitted) model.lists.forEach((_, key) => refill(key));
  render();
  const ended = batch.left.find((c) => c.id === model.selected);
  if (ended) showEnded(ended);
  else if (batch.changes.some((c) => c.id === model.selected)) showDetails(model.selected);
}

const groupKey = (machine, state) => `${machine}/${state}`;

function place(actor) {
  const previous = model.lists.get(model.where.get(actor.id))?.get(actor.id);
  unplace(actor.id);
  const key = groupKey(actor.machine, actor.state);
  if (!model.lists.has(key)) model.lists.set(key, new Map());
  const list = model.lists.get(key);
  if (list.size < LIST_CAP) {
    list.set(actor.id, { ...previous, ...actor });
    model.where.set(actor.id, key);
  }
}

function unplace(id) {
  const key = model.where.get(id);
  if (key === undefined) return;
  model.lists.get(key)?.delete(id);
  model.where.delete(id);
}

/** Asks again for a group whose list is shorter than its count (actors left it). */
async function refill(key) {
  if (Date.now() - (refillAt.get(key) ?? 0) < REFILL_MS) return;
  refillAt.set(key, Date.now());
  const [machine, ...rest] = key.split('/');
  const query = new URLSearchParams({ machine, state: rest.join('/'), limit: String(LIST_CAP) });
  const sample = await api(`/api/admin/inspector/actors?${query}`).catch(() => undefined);
  if (!sample) return;
  for (const actor of sample.actors) place(actor);
  render();
}

function inState(key, path) {
  return key.split(', ').some((leaf) => leaf === path || leaf.startsWith(`${path}.`));
}

// ---- rendering: counts, groups, details -------------------------------------------

function render() {
  for (const badge of badges) {
    const states = model.counts[badge.machine] ?? {};
    let count = 0;
    for (const [key, n] of Object.entries(states)) if (inState(key, badge.path)) count += n;
    badge.text.textContent = String(count);
    badge.box.classList.toggle('occupied', count > 0);
  }
  for (const chart of model.charts) {
    const live = document.querySelector(`[data-live-for="${chart.name}"]`);
    if (live) live.textContent = `${model.totals[chart.name]?.live ?? 0} live`;
  }
  renderGroups();
}

function renderGroups() {
  const names = [...new Set([...model.charts.map((c) => c.name), ...Object.keys(model.counts)])];
  const groups = $('groups');
  groups.replaceChildren();
  let total = 0;
  for (const machine of names) {
    const states = Object.entries(model.counts[machine] ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    const section = el('section', { className: 'machine' }, el('h3', {}, machine));
    if (!states.length) section.append(el('p', { className: 'muted' }, 'no live actors'));
    for (const [state, count] of states) {
      total += count;
      const key = groupKey(machine, state);
      const list = [...(model.lists.get(key)?.values() ?? [])];
      if (list.length < Math.min(count, LIST_CAP)) refill(key);
      const items = list.map((actor) =>
        el('li', {}, el('button', { type: 'button', className: actor.id === model.selected ? 'actor selected' : 'actor', dataset: { actorId: actor.id } }, actor.label ? `${actor.id} ${actor.label}` : actor.id)),
      );
      if (count > list.length) items.push(el('li', { className: 'muted' }, `and ${count - list.length} more`));
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

$('groups').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-actor-id]');
  if (button) showDetails(button.dataset.actorId);
});

async function showDetails(id) {
  model.selected = id;
  const details = $('details');
  let actor;
  try {
    actor = await api(`/api/admin/inspector/actors/${encodeURIComponent(id)}`);
  } catch (error) {
    details.replaceChildren(el('p', { className: 'muted' }, `${id}: ${error instanceof AuthError ? 'token refused' : 'no longer live'}`));
    return renderGroups();
  }
  const rows = [
    ['actor', actor.id], ['machine', actor.machine], ['system id', actor.systemId ?? '-'], ['state', actor.state],
    ['status', actor.status], ['in state since', new Date(actor.since).toLocaleTimeString()],
    ['events', `${actor.events}${actor.lastEvent ? ` (last: ${actor.lastEvent})` : ''}`], ['children', actor.children.join(', ') || '-'],
  ];
  details.replaceChildren(
    el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))])),
    el('pre', { id: 'context' }, JSON.stringify(actor.context, null, 2)),
  );
  renderGroups();
}

function showEnded(actor) {
  model.selected = undefined;
  const note = el('p', { className: 'ended' }, `${actor.id} (${actor.machine}) ended: ${actor.status} in ${actor.state}.`);
  $('details').prepend(note);
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset ?? {});
  node.append(...children);
  return node;
}

// ---- charts: parse the Mermaid subset the server writes, lay out, draw ----------------

function renderCharts() {
  badges.length = 0;
  const host = $('charts');
  host.replaceChildren();
  for (const chart of model.charts) {
    const svg = drawChart(parseMermaid(chart.mermaid), chart.name);
    const card = el('section', { className: 'panel chart', dataset: { machine: chart.name } },
      el('h2', {}, chart.name, ' ', el('span', { className: 'muted', dataset: { liveFor: chart.name } }, '0 live')),
      el('p', { className: 'muted' }, chart.description), svg);
    // As wide as its chart (CSSOM, which the page's CSP allows, unlike style attributes).
    card.style.width = `${Math.max(Number(svg.getAttribute('width')), 300)}px`;
    host.append(card);
  }
}

/**
 * The subset toMermaid (src/statecharts/mermaid.ts) writes: `state "label" as id [{]`,
 * `state id {`, `}`, `[*] --> id`, `id --> [*]`, `a --> b : label`, `id : text`,
 * `class id name`, bare ids. A loop (`a --> a`) becomes a line inside the box, as UML
 * writes internal transitions.
 */
function parseMermaid(text) {
  const root = { children: [], edges: [], initial: [], finals: [], lines: [], classes: [] };
  const nodes = new Map();
  const stack = [root];
  const ensure = (id, block) => {
    if (!nodes.has(id)) {
      const node = { id, label: id, parent: block, children: [], edges: [], initial: [], finals: [], lines: [], classes: [] };
      nodes.set(id, node);
      block.children.push(node);
    }
    return nodes.get(id);
  };
  for (const line of text.split('\n').map((l) => l.trim())) {
    const block = stack[stack.length - 1];
    let m;
    if (!line || line === '--' || line.startsWith('%%') || line.startsWith('stateDiagram') || line.startsWith('classDef ')) continue;
    else if (line === '}') stack.pop();
    else if ((m = /^state "([^"]*)" as (\S+?)( \{)?$/.exec(line))) {
      const node = ensure(m[2], block);
      node.label = m[1];
      if (m[3]) stack.push(node);
    } else if ((m = /^state (\S+) \{$/.exec(line))) stack.push(ensure(m[1], block));
    else if ((m = /^class (\S+) (\S+)$/.exec(line))) ensure(m[1], block).classes.push(m[2]);
    else if ((m = /^\[\*\] --> (\S+)$/.exec(line))) block.initial.push(ensure(m[1], block));
    else if ((m = /^(\S+) --> \[\*\]$/.exec(line))) block.finals.push(ensure(m[1], block));
    else if ((m = /^(\S+) --> (\S+?)(?: : (.*))?$/.exec(line))) {
      const [from, to] = [ensure(m[1], block), ensure(m[2], block)];
      if (from === to) from.lines.push({ text: `\u21bb ${m[3] ?? ''}`, kind: 'internal' });
      else block.edges.push({ from, to, label: m[3] ?? '' });
    } else if ((m = /^(\S+) : (.*)$/.exec(line))) ensure(m[1], block).lines.push({ text: m[2], kind: 'desc' });
    else if ((m = /^(\S+)$/.exec(line))) ensure(m[1], block);
  }
  const setPaths = (node, prefix) => node.children.forEach((c) => { c.path = prefix + c.label; setPaths(c, `${c.path}.`); });
  setPaths(root, '');
  return root;
}

const PAD = 12, HEADER = 26, BOX_H = 30, LINE_H = 14, COL_GAP = 36, ROW_GAP = 44, DOT = 7;
const measurer = document.createElement('canvas').getContext('2d');
const textWidth = (text, size, weight = 400) => ((measurer.font = `${weight} ${size}px system-ui, sans-serif`), measurer.measureText(text).width);

/**
 * Sizes the block's children, then places them in layers from top to bottom by
 * longest path from the initial state (back edges, found by a DFS in document order,
 * do not count). Top to bottom keeps charts narrow: labels sit beside the edges.
 */
function layout(block) {
  // `any state` is not on the way from the initial state anywhere: it goes to the side.
  const pseudos = block.children.filter((n) => n.classes.includes('anyState'));
  const items = block.children.filter((n) => !pseudos.includes(n));
  const start = block.initial.length ? { dot: 'start', w: DOT * 2, h: DOT * 2 } : undefined;
  const end = block.finals.length ? { dot: 'end', w: DOT * 2 + 4, h: DOT * 2 + 4 } : undefined;
  for (const node of block.children) {
    const lines = Math.max(0, ...node.lines.map((l) => textWidth(l.text, 11) + 20));
    if (node.children.length) {
      const inner = layout(node);
      node.inner = HEADER + node.lines.length * LINE_H;
      node.w = Math.ceil(Math.max(inner.w + PAD * 2, textWidth(node.label, 13, 600) + 60, lines));
      node.h = node.inner + inner.h + PAD;
    } else {
      node.w = Math.ceil(Math.max(textWidth(node.label, 13, 600) + 62, lines, 80));
      node.h = BOX_H + node.lines.length * LINE_H + (node.lines.length ? 4 : 0);
    }
  }
  const rep = (node) => { while (node && node.parent !== block) node = node.parent; return node; };
  const all = [start, ...items, end].filter(Boolean);
  const succ = new Map(all.map((n) => [n, new Set()]));
  for (const e of block.edges) {
    // What `any state` leads to is ranked as if reached from the initial state.
    const [a, b] = [rep(e.from), rep(e.to)].map((n) => (pseudos.includes(n) ? start : n));
    if (succ.has(a) && succ.has(b) && a !== b) succ.get(a).add(b);
  }
  if (start) block.initial.forEach((n) => succ.get(start).add(n));
  if (end) block.finals.forEach((n) => succ.get(n).add(end));
  const done = new Set(), order = [];
  const visit = (n) => {
    done.add(n);
    for (const m of succ.get(n)) if (!done.has(m)) visit(m);
    order.push(n);
  };
  all.forEach((n) => done.has(n) || visit(n));
  order.reverse();
  const rank = new Map(order.map((n, i) => [n, i]));
  const layer = new Map(all.map((n) => [n, 0]));
  for (const n of order) for (const m of succ.get(n)) if (rank.get(m) > rank.get(n)) layer.set(m, Math.max(layer.get(m), layer.get(n) + 1));
  if (end) layer.set(end, Math.max(...block.finals.map((n) => layer.get(n) + 1)));
  const rows = [];
  for (const n of all) (rows[layer.get(n)] ??= []).push(n);
  const widths = rows.map((row) => (row ? row.reduce((w, n) => w + n.w, 0) + COL_GAP * (row.length - 1) : 0));
  let width = Math.max(0, ...widths);
  let y = 0;
  rows.forEach((row, i) => {
    if (!row) return;
    const height = Math.max(...row.map((n) => n.h));
    let x = (width - widths[i]) / 2;
    for (const n of row) {
      n.x = x;
      n.y = y + (height - n.h) / 2;
      x += n.w + COL_GAP;
    }
    y += height + ROW_GAP;
  });
  for (const n of pseudos) {
    n.x = width ? width + COL_GAP : 0;
    n.y = 0;
    width = n.x + n.w;
  }
  block.start = start;
  block.end = end;
  return { w: width, h: Math.max(0, y - ROW_GAP, ...pseudos.map((n) => n.h)) };
}

/** Turns block-relative positions into absolute ones. */
function position(block, ox, oy) {
  for (const n of [...block.children, block.start, block.end].filter(Boolean)) {
    n.ax = ox + n.x;
    n.ay = oy + n.y;
    if (n.children?.length) position(n, n.ax + PAD, n.ay + n.inner);
  }
}

function drawChart(root, machine) {
  layout(root);
  position(root, 0, 0);
  const bounds = { x0: 0, y0: 0, x1: 0, y1: 0 };
  const grow = (x, y) => {
    bounds.x0 = Math.min(bounds.x0, x); bounds.y0 = Math.min(bounds.y0, y);
    bounds.x1 = Math.max(bounds.x1, x); bounds.y1 = Math.max(bounds.y1, y);
  };
  const svg = svgEl('svg', { class: 'chart-svg', role: 'img', 'aria-label': `statechart of ${machine}` });
  svg.append(svgEl('defs', {}, svgEl('marker', { id: `arrow-${machine}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))));
  const boxes = svgEl('g', {}), edges = svgEl('g', {}), labels = svgEl('g', {});
  svg.append(boxes, edges, labels);
  const obstacles = [];
  const taken = [];
  const edge = (e, i, n) => drawEdge(e, i, n, { edges, labels, obstacles, taken, grow, marker: `url(#arrow-${machine})` });
  const drawBlock = (block) => {
    if (block.start) boxes.append(svgEl('circle', { cx: block.start.ax + DOT, cy: block.start.ay + DOT, r: DOT, class: 'dot' }));
    if (block.end) {
      const [cx, cy] = [block.end.ax + DOT + 2, block.end.ay + DOT + 2];
      boxes.append(svgEl('circle', { cx, cy, r: DOT + 2, class: 'dot-end' }), svgEl('circle', { cx, cy, r: DOT - 2, class: 'dot' }));
      grow(cx + DOT + 2, cy + DOT + 2);
    }
    for (const n of block.children) {
      const pseudo = n.classes.includes('anyState');
      const composite = n.children.length > 0;
      const g = svgEl('g', { class: `${composite ? 'composite' : 'state'}${pseudo ? ' pseudo' : ''}`, 'data-path': n.path });
      g.append(svgEl('rect', { x: n.ax, y: n.ay, width: n.w, height: n.h, rx: 8, class: 'box' }));
      g.append(svgEl('text', { x: n.ax + 10, y: n.ay + (composite ? 17 : 20), class: 'label' }, n.label));
      const firstLine = composite ? n.ay + HEADER + 6 : n.ay + BOX_H + 4;
      n.lines.forEach((l, i) => g.append(svgEl('text', { x: n.ax + 10, y: firstLine + i * LINE_H, class: l.kind }, l.text)));
      if (!pseudo) {
        const text = svgEl('text', { x: n.ax + n.w - 17, y: n.ay + 18, class: 'badge-text', 'data-count-for': `${machine}/${n.path}` }, '0');
        g.append(svgEl('rect', { x: n.ax + n.w - 32, y: n.ay + 6, width: 30, height: 17, rx: 8, class: 'badge' }), text);
        badges.push({ machine, path: n.path, text, box: g });
      }
      boxes.append(g);
      grow(n.ax + n.w, n.ay + n.h);
      if (composite) drawBlock(n);
      else obstacles.push(n);
    }
    const pairs = new Map();
    for (const e of block.edges) {
      const key = [e.from.id, e.to.id].sort().join('|');
      pairs.set(key, [...(pairs.get(key) ?? []), e]);
    }
    for (const group of pairs.values()) {
      const pairBends = [];
      group.forEach((e, i) => edge(Object.assign(e, { pairBends }), i, group.length));
    }
    if (block.start) block.initial.forEach((n) => edge({ from: block.start, to: n, label: '' }, 0, 1));
    if (block.end) block.finals.forEach((n) => edge({ from: n, to: block.end, label: '' }, 0, 1));
  };
  drawBlock(root);
  const m = 10;
  const [w, h] = [bounds.x1 - bounds.x0 + 2 * m, bounds.y1 - bounds.y0 + 2 * m];
  svg.setAttribute('viewBox', `${bounds.x0 - m} ${bounds.y0 - m} ${w} ${h}`);
  svg.setAttribute('width', String(Math.ceil(w)));
  return svg;
}

/**
 * A quadratic curve between two boxes, bent around the boxes in its way. Its label
 * sits beside the curve's middle, on the side it bends to (parallel edges bend apart).
 */
function drawEdge(e, i, n, { edges, labels, obstacles, taken, grow, marker }) {
  const a = e.from, b = e.to;
  // Parallel edges are spread around the pair's own axis, whichever way each one goes.
  const flip = (a.id ?? a.dot) > (b.id ?? b.dot) ? -1 : 1;
  const sa = border(a, center(b)), sb = border(b, center(a));
  const dx = sb.x - sa.x, dy = sb.y - sa.y, len = Math.hypot(dx, dy) || 1;
  const nx = -dy / len, ny = dx / len;
  const base = (i - (n - 1) / 2) * 28 * flip;
  const inTheWay = obstacles.filter((o) => o !== a && o !== b && !inside(o, a) && !inside(o, b) && !inside(a, o) && !inside(b, o));
  const control = (offset) => ({ x: (sa.x + sb.x) / 2 + nx * offset * 2, y: (sa.y + sb.y) / 2 + ny * offset * 2 });
  let c = control(base);
  const side = Math.sign(base) || 1;
  // Bends already taken by edges between the same two boxes, on the pair's own axis.
  const pair = (e.pairBends ??= []);
  for (const extra of [0, 50, -50, 100, -100, 150, -150, 200, -200, 260, -260]) {
    const offset = base + side * extra;
    const candidate = control(offset);
    if (!pair.some((taken) => Math.abs(taken - offset * flip) < 20) && !inTheWay.some((o) => curveHits(sa, candidate, sb, o))) {
      c = candidate;
      pair.push(offset * flip);
      break;
    }
  }
  const s = border(a, c), t = border(b, c);
  edges.append(svgEl('path', { d: `M${s.x},${s.y} Q${c.x},${c.y} ${t.x},${t.y}`, class: 'edge', 'marker-end': marker }));
  const mx = (s.x + 2 * c.x + t.x) / 4, my = (s.y + 2 * c.y + t.y) / 4;
  grow(mx, my);
  if (!e.label) return;
  const w = textWidth(e.label, 10.5);
  const horizontal = Math.abs(t.y - s.y) < Math.abs(t.x - s.x);
  const anchor = horizontal ? 'middle' : mx >= (s.x + t.x) / 2 ? 'start' : 'end';
  const lx = anchor === 'start' ? mx + 6 : anchor === 'end' ? mx - 6 : mx;
  const left = anchor === 'start' ? lx : anchor === 'end' ? lx - w : lx - w / 2;
  let ly = horizontal ? (my <= (s.y + t.y) / 2 ? my - 5 : my + 13) : my + 4;
  // Step away from labels already placed (one line at a time, either way).
  const clash = (y) => taken.some((r) => left < r.x1 && left + w > r.x0 && y - 10 < r.y1 && y + 2 > r.y0);
  for (const shift of [0, 12, -12, 24, -24, 36, -36]) {
    if (!clash(ly + shift)) {
      ly += shift;
      break;
    }
  }
  taken.push({ x0: left - 2, x1: left + w + 2, y0: ly - 10, y1: ly + 2 });
  labels.append(svgEl('text', { x: lx, y: ly, class: 'edge-label', 'text-anchor': anchor }, e.label));
  grow(left - 3, ly - 11);
  grow(left + w + 3, ly + 3);
}

const center = (n) => ({ x: n.ax + n.w / 2, y: n.ay + n.h / 2 });
const inside = (outer, inner) => { for (let p = inner.parent; p; p = p.parent) if (p === outer) return true; return false; };

function curveHits(s, c, t, o) {
  for (let k = 1; k < 16; k++) {
    const u = k / 16;
    const x = (1 - u) ** 2 * s.x + 2 * (1 - u) * u * c.x + u * u * t.x;
    const y = (1 - u) ** 2 * s.y + 2 * (1 - u) * u * c.y + u * u * t.y;
    if (x > o.ax - 6 && x < o.ax + o.w + 6 && y > o.ay - 6 && y < o.ay + o.h + 6) return true;
  }
  return false;
}

/** Where the line from a box's center toward `p` leaves the box. */
function border(n, p) {
  const { x, y } = center(n);
  const dx = p.x - x, dy = p.y - y;
  const scale = Math.min(Math.abs(n.w / 2 / (dx || 1e-9)), Math.abs(n.h / 2 / (dy || 1e-9)));
  return { x: x + dx * scale, y: y + dy * scale };
}

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const child of children) node.append(child);
  return node;
}

if (token()) connect();

// @ts-check
/**
 * Lays a chart out from its definition: boxes for states (composites around their
 * nested states), dots, and curved transitions with their labels, in SVG user units.
 * Pure: text widths come from the `measure` function given (a canvas in the page, a
 * fixed-width estimate in tests), and the result is plain data for render.js.
 *
 * Each block (the machine, or a composite) places its children in layers from top to
 * bottom by longest path from the initial state; back edges, found by a depth-first
 * search in document order, do not count. Top to bottom keeps charts narrow: labels
 * sit beside the edges. `any state` goes to the side: nothing leads to it.
 */
import { chartGraph } from './chart.js';

/**
 * @typedef {import('./chart.js').Node} Node
 * @typedef {import('./chart.js').StateJSON} StateJSON
 * @typedef {(text: string, size: number, weight?: number) => number} Measure
 * @typedef {{ x: number, y: number }} Point
 * @typedef {{ dot: 'start' | 'end', id: string, w: number, h: number, parent: Node, x?: number, y?: number, ax?: number, ay?: number }} Dot
 * @typedef {{ x: number, y: number, w: number, h: number, ax: number, ay: number, inner: number, start?: Dot, end?: Dot }} Geometry
 *
 * @typedef {{ kind: 'start' | 'end', cx: number, cy: number }} DotShape
 * @typedef {{
 *   kind: 'state', path: string, label: string, composite: boolean, pseudo: boolean,
 *   x: number, y: number, w: number, h: number, labelY: number,
 *   lines: Array<{ text: string, kind: string, y: number }>,
 * }} StateShape
 * @typedef {{ from: string, to: string, s: Point, c: Point, t: Point, label?: { text: string, x: number, y: number, anchor: 'start' | 'middle' | 'end' } }} EdgeShape
 * @typedef {{ shapes: Array<DotShape | StateShape>, edges: EdgeShape[], viewBox: [number, number, number, number], width: number }} ChartLayout
 */

export const PAD = 12, HEADER = 26, BOX_H = 30, LINE_H = 14, COL_GAP = 36, ROW_GAP = 44, DOT = 7;

/**
 * @param {StateJSON} definition the chart's `definition` from the charts endpoint
 * @param {Measure} measure the width of a text at a font size (px) and weight
 * @returns {ChartLayout}
 */
export function layoutChart(definition, measure) {
  const root = chartGraph(definition);
  /** @type {Map<Node | Dot, Geometry>} */
  const geo = new Map();
  const { w, h, start, end } = layoutBlock(root, geo, measure);
  geo.set(root, { x: 0, y: 0, w, h, ax: 0, ay: 0, inner: 0, start, end });
  position(root, geo, 0, 0);
  return route(root, geo, measure);
}

/**
 * Sizes the block's children (composites first lay out their own), then places them.
 * @param {Node} block @param {Map<Node | Dot, Geometry>} geo @param {Measure} measure
 * @returns {{ w: number, h: number, start?: Dot, end?: Dot }}
 */
function layoutBlock(block, geo, measure) {
  const pseudos = block.children.filter((n) => n.pseudo);
  const items = block.children.filter((n) => !n.pseudo);
  /** @type {Dot | undefined} */
  const start = block.initial.length ? { dot: 'start', id: 'start', w: DOT * 2, h: DOT * 2, parent: block } : undefined;
  /** @type {Dot | undefined} */
  const end = block.finals.length ? { dot: 'end', id: 'end', w: DOT * 2 + 4, h: DOT * 2 + 4, parent: block } : undefined;
  for (const dot of [start, end]) if (dot) geo.set(dot, { x: 0, y: 0, w: dot.w, h: dot.h, ax: 0, ay: 0, inner: 0 });
  for (const n of block.children) {
    const lines = Math.max(0, ...n.lines.map((l) => measure(l.text, 11) + 20));
    if (n.children.length) {
      const inner = layoutBlock(n, geo, measure);
      const top = HEADER + n.lines.length * LINE_H;
      const w = Math.ceil(Math.max(inner.w + PAD * 2, measure(n.label, 13, 600) + 60, lines));
      geo.set(n, { x: 0, y: 0, w, h: top + inner.h + PAD, ax: 0, ay: 0, inner: top, start: inner.start, end: inner.end });
    } else {
      const w = Math.ceil(Math.max(measure(n.label, 13, 600) + 62, lines, 80));
      geo.set(n, { x: 0, y: 0, w, h: BOX_H + n.lines.length * LINE_H + (n.lines.length ? 4 : 0), ax: 0, ay: 0, inner: 0 });
    }
  }
  const g = (/** @type {Node | Dot} */ n) => /** @type {Geometry} */ (geo.get(n));
  /** The child of this block an edge end lies in. @param {Node} n */
  const rep = (n) => {
    /** @type {Node | undefined} */
    let at = n;
    while (at && at.parent !== block) at = at.parent;
    return at;
  };
  /** @type {Array<Node | Dot>} */
  const all = [start, ...items, end].filter((n) => n !== undefined);
  /** @type {Map<Node | Dot, Set<Node | Dot>>} */
  const succ = new Map(all.map((n) => [n, new Set()]));
  for (const e of block.edges) {
    // What `any state` leads to is ranked as if reached from the initial state.
    const [a, b] = [rep(e.from), rep(e.to)].map((n) => (n && n.pseudo ? start : n));
    if (a && b && succ.has(a) && succ.has(b) && a !== b) succ.get(a)?.add(b);
  }
  if (start) block.initial.forEach((n) => succ.get(start)?.add(n));
  if (end) block.finals.forEach((n) => succ.get(n)?.add(end));
  const done = new Set();
  /** @type {Array<Node | Dot>} */
  const order = [];
  const visit = (/** @type {Node | Dot} */ n) => {
    done.add(n);
    for (const m of succ.get(n) ?? []) if (!done.has(m)) visit(m);
    order.push(n);
  };
  all.forEach((n) => done.has(n) || visit(n));
  order.reverse();
  const rank = new Map(order.map((n, i) => [n, i]));
  /** @type {Map<Node | Dot, number>} */
  const layer = new Map(all.map((n) => [n, 0]));
  const at = (/** @type {Map<Node | Dot, number>} */ map, /** @type {Node | Dot} */ n) => map.get(n) ?? 0;
  for (const n of order) {
    for (const m of succ.get(n) ?? []) if (at(rank, m) > at(rank, n)) layer.set(m, Math.max(at(layer, m), at(layer, n) + 1));
  }
  if (end) layer.set(end, Math.max(...block.finals.map((n) => at(layer, n) + 1)));
  /** @type {Array<Array<Node | Dot>>} */
  const rows = [];
  for (const n of all) (rows[at(layer, n)] ??= []).push(n);
  const widths = Array.from(rows, (row) => (row ? row.reduce((w, n) => w + g(n).w, 0) + COL_GAP * (row.length - 1) : 0));
  let width = Math.max(0, ...widths);
  let y = 0;
  Array.from(rows).forEach((row, i) => {
    if (!row) return;
    const height = Math.max(...row.map((n) => g(n).h));
    let x = (width - widths[i]) / 2;
    for (const n of row) {
      g(n).x = x;
      g(n).y = y + (height - g(n).h) / 2;
      x += g(n).w + COL_GAP;
    }
    y += height + ROW_GAP;
  });
  for (const n of pseudos) {
    g(n).x = width ? width + COL_GAP : 0;
    g(n).y = 0;
    width = g(n).x + g(n).w;
  }
  return { w: width, h: Math.max(0, y - ROW_GAP, ...pseudos.map((n) => g(n).h)), start, end };
}

/**
 * Turns block-relative positions into absolute ones.
 * @param {Node} block @param {Map<Node | Dot, Geometry>} geo @param {number} ox @param {number} oy
 */
function position(block, geo, ox, oy) {
  const own = /** @type {Geometry} */ (geo.get(block));
  for (const n of [...block.children, own.start, own.end]) {
    if (!n) continue;
    const g = /** @type {Geometry} */ (geo.get(n));
    g.ax = ox + g.x;
    g.ay = oy + g.y;
    if ('children' in n && n.children.length) position(n, geo, g.ax + PAD, g.ay + g.inner);
  }
}

/**
 * The shapes in drawing order (a composite before what it holds), and the edges,
 * each routed around the states drawn before it.
 * @param {Node} root @param {Map<Node | Dot, Geometry>} geo @param {Measure} measure
 * @returns {ChartLayout}
 */
function route(root, geo, measure) {
  const g = (/** @type {Node | Dot} */ n) => /** @type {Geometry} */ (geo.get(n));
  const bounds = { x0: 0, y0: 0, x1: 0, y1: 0 };
  const grow = (/** @type {number} */ x, /** @type {number} */ y) => {
    bounds.x0 = Math.min(bounds.x0, x); bounds.y0 = Math.min(bounds.y0, y);
    bounds.x1 = Math.max(bounds.x1, x); bounds.y1 = Math.max(bounds.y1, y);
  };
  /** @type {Array<DotShape | StateShape>} */
  const shapes = [];
  /** @type {EdgeShape[]} */
  const edges = [];
  /** @type {Node[]} */
  const obstacles = [];
  /** @type {Array<{ x0: number, x1: number, y0: number, y1: number }>} */
  const taken = [];
  const ctx = { geo, obstacles, taken, grow, measure, edges };
  const block = (/** @type {Node} */ b) => {
    const { start, end } = g(b);
    if (start) shapes.push({ kind: 'start', cx: g(start).ax + DOT, cy: g(start).ay + DOT });
    if (end) {
      const [cx, cy] = [g(end).ax + DOT + 2, g(end).ay + DOT + 2];
      shapes.push({ kind: 'end', cx, cy });
      grow(cx + DOT + 2, cy + DOT + 2);
    }
    for (const n of b.children) {
      const { ax, ay, w, h } = g(n);
      const composite = n.children.length > 0;
      const firstLine = composite ? ay + HEADER + 6 : ay + BOX_H + 4;
      shapes.push({
        kind: 'state', path: n.path, label: n.label, composite, pseudo: n.pseudo, x: ax, y: ay, w, h,
        labelY: ay + (composite ? 17 : 20),
        lines: n.lines.map((l, i) => ({ ...l, y: firstLine + i * LINE_H })),
      });
      grow(ax + w, ay + h);
      if (composite) block(n);
      else obstacles.push(n);
    }
    /** @type {Map<string, import('./chart.js').Edge[]>} */
    const pairs = new Map();
    for (const e of b.edges) {
      const key = [e.from.id, e.to.id].sort().join('|');
      pairs.set(key, [...(pairs.get(key) ?? []), e]);
    }
    for (const group of pairs.values()) {
      /** @type {number[]} */
      const pairBends = [];
      group.forEach((e, i) => edge(e.from, e.to, e.label, i, group.length, pairBends, ctx));
    }
    if (start) b.initial.forEach((n) => edge(start, n, '', 0, 1, [], ctx));
    if (end) b.finals.forEach((n) => edge(n, end, '', 0, 1, [], ctx));
  };
  block(root);
  const m = 10;
  const [w, h] = [bounds.x1 - bounds.x0 + 2 * m, bounds.y1 - bounds.y0 + 2 * m];
  return { shapes, edges, viewBox: [bounds.x0 - m, bounds.y0 - m, w, h], width: Math.ceil(w) };
}

/**
 * A quadratic curve between two boxes, bent around the boxes in its way. Its label
 * sits beside the curve's middle, on the side it bends to (parallel edges bend apart).
 * @param {Node | Dot} a @param {Node | Dot} b @param {string} label @param {number} i @param {number} n
 * @param {number[]} pairBends bends already taken by edges between the same two boxes
 * @param {{ geo: Map<Node | Dot, Geometry>, obstacles: Node[], taken: Array<{ x0: number, x1: number, y0: number, y1: number }>,
 *   grow: (x: number, y: number) => void, measure: Measure, edges: EdgeShape[] }} ctx
 */
function edge(a, b, label, i, n, pairBends, { geo, obstacles, taken, grow, measure, edges }) {
  const ga = /** @type {Geometry} */ (geo.get(a)), gb = /** @type {Geometry} */ (geo.get(b));
  // Parallel edges are spread around the pair's own axis, whichever way each one goes.
  const flip = a.id > b.id ? -1 : 1;
  const sa = border(ga, center(gb)), sb = border(gb, center(ga));
  const dx = sb.x - sa.x, dy = sb.y - sa.y, len = Math.hypot(dx, dy) || 1;
  const nx = -dy / len, ny = dx / len;
  const base = (i - (n - 1) / 2) * 28 * flip;
  const inTheWay = obstacles.filter((o) => o !== a && o !== b && !inside(o, a) && !inside(o, b) && !inside(a, o) && !inside(b, o));
  const control = (/** @type {number} */ offset) => ({ x: (sa.x + sb.x) / 2 + nx * offset * 2, y: (sa.y + sb.y) / 2 + ny * offset * 2 });
  let c = control(base);
  const side = Math.sign(base) || 1;
  for (const extra of [0, 50, -50, 100, -100, 150, -150, 200, -200, 260, -260]) {
    const offset = base + side * extra;
    const candidate = control(offset);
    if (!pairBends.some((bend) => Math.abs(bend - offset * flip) < 20) && !inTheWay.some((o) => curveHits(sa, candidate, sb, /** @type {Geometry} */ (geo.get(o))))) {
      c = candidate;
      pairBends.push(offset * flip);
      break;
    }
  }
  const s = border(ga, c), t = border(gb, c);
  /** @type {EdgeShape} */
  const shape = { from: pathOf(a), to: pathOf(b), s, c, t };
  edges.push(shape);
  const mx = (s.x + 2 * c.x + t.x) / 4, my = (s.y + 2 * c.y + t.y) / 4;
  grow(mx, my);
  if (!label) return;
  const w = measure(label, 10.5);
  const horizontal = Math.abs(t.y - s.y) < Math.abs(t.x - s.x);
  const anchor = horizontal ? 'middle' : mx >= (s.x + t.x) / 2 ? 'start' : 'end';
  const lx = anchor === 'start' ? mx + 6 : anchor === 'end' ? mx - 6 : mx;
  const left = anchor === 'start' ? lx : anchor === 'end' ? lx - w : lx - w / 2;
  let ly = horizontal ? (my <= (s.y + t.y) / 2 ? my - 5 : my + 13) : my + 4;
  // Step away from labels already placed (one line at a time, either way).
  const clash = (/** @type {number} */ y) => taken.some((r) => left < r.x1 && left + w > r.x0 && y - 10 < r.y1 && y + 2 > r.y0);
  for (const shift of [0, 12, -12, 24, -24, 36, -36]) {
    if (!clash(ly + shift)) {
      ly += shift;
      break;
    }
  }
  taken.push({ x0: left - 2, x1: left + w + 2, y0: ly - 10, y1: ly + 2 });
  shape.label = { text: label, x: lx, y: ly, anchor };
  grow(left - 3, ly - 11);
  grow(left + w + 3, ly + 3);
}

/** An edge end as tests and the page name it: a state's path, or `[*]` for a dot. @param {Node | Dot} n */
function pathOf(n) {
  return 'dot' in n ? '[*]' : n.path;
}

/** @param {Geometry} n @returns {Point} */
const center = (n) => ({ x: n.ax + n.w / 2, y: n.ay + n.h / 2 });

/** Whether `inner` lies inside the composite `outer`. @param {Node | Dot} outer @param {Node | Dot} inner */
function inside(outer, inner) {
  for (let p = inner.parent; p; p = p.parent) if (p === outer) return true;
  return false;
}

/** @param {Point} s @param {Point} c @param {Point} t @param {Geometry} o */
function curveHits(s, c, t, o) {
  for (let k = 1; k < 16; k++) {
    const u = k / 16;
    const x = (1 - u) ** 2 * s.x + 2 * (1 - u) * u * c.x + u * u * t.x;
    const y = (1 - u) ** 2 * s.y + 2 * (1 - u) * u * c.y + u * u * t.y;
    if (x > o.ax - 6 && x < o.ax + o.w + 6 && y > o.ay - 6 && y < o.ay + o.h + 6) return true;
  }
  return false;
}

/** Where the line from a box's center toward `p` leaves the box. @param {Geometry} n @param {Point} p */
function border(n, p) {
  const { x, y } = center(n);
  const dx = p.x - x, dy = p.y - y;
  const scale = Math.min(Math.abs(n.w / 2 / (dx || 1e-9)), Math.abs(n.h / 2 / (dy || 1e-9)));
  return { x: x + dx * scale, y: y + dy * scale };
}

/**
 * What the soak writes and prints: one CSV row per node per sample (the driver's
 * counts at that moment beside it), the progress line of a sample, and the summary
 * (per node: the heap medians of each quarter, RSS, handles and lag at the start
 * and the end; the driver's totals; the verdict).
 */
import { median, mib, type DriverCounts, type NodeSample, type Verdict } from './verdict.ts';

export interface Row {
  sample: NodeSample;
  counts: DriverCounts;
}

const COUNT_COLUMNS: Array<keyof DriverCounts> = ['connects', 'disconnects', 'logins', 'logouts', 'pushes', 'expected', 'received', 'lost', 'duplicates', 'reloads', 'errors'];

export function csv(rows: readonly Row[]): string {
  const header = ['t_s', 'node', 'heap_after_gc_bytes', 'heap_used_bytes', 'rss_bytes', 'active_handles', 'lag_p99_ms', 'sockets_open', 'sessions', ...COUNT_COLUMNS];
  const lines = rows.map(({ sample: s, counts }) =>
    [s.t.toFixed(1), s.node, s.heapAfterGc, s.heapUsed, s.rss, s.handles, s.lagP99Ms.toFixed(2), s.socketsOpen, s.sessions, ...COUNT_COLUMNS.map((c) => counts[c])].join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}

export function progressLine(t: number, samples: readonly NodeSample[], counts: DriverCounts): string {
  const nodes = samples.map((s) => `${s.node}: heap ${mib(s.heapAfterGc)} rss ${mib(s.rss)} handles ${s.handles} lag p99 ${s.lagP99Ms.toFixed(1)} ms sockets ${s.socketsOpen}`);
  return `t=${t.toFixed(0)}s | ${nodes.join(' | ')} | connects ${counts.connects} pushes ${counts.pushes} frames ${counts.received}/${counts.expected} lost ${counts.lost} dup ${counts.duplicates} reloads ${counts.reloads} errors ${counts.errors}`;
}

export interface NodeFigures {
  node: string;
  /** Median heap after GC in each quarter (bytes). */
  heapQuarters: number[];
  rssFirst: number;
  rssLast: number;
  rssMax: number;
  handlesFirst: number;
  handlesLast: number;
  handlesMax: number;
  lagP99Median: number;
  lagP99Max: number;
}

export function nodeFigures(node: string, samples: readonly NodeSample[], durationS: number): NodeFigures {
  const mine = samples.filter((s) => s.node === node);
  const quarter = (q: number) => mine.filter((s) => s.t >= (q * durationS) / 4 && (q === 3 ? s.t <= durationS : s.t < ((q + 1) * durationS) / 4)).map((s) => s.heapAfterGc);
  const first = mine[0];
  const last = mine[mine.length - 1];
  return {
    node,
    heapQuarters: [0, 1, 2, 3].map((q) => median(quarter(q))),
    rssFirst: first.rss,
    rssLast: last.rss,
    rssMax: Math.max(...mine.map((s) => s.rss)),
    handlesFirst: first.handles,
    handlesLast: last.handles,
    handlesMax: Math.max(...mine.map((s) => s.handles)),
    lagP99Median: median(mine.map((s) => s.lagP99Ms)),
    lagP99Max: Math.max(...mine.map((s) => s.lagP99Ms)),
  };
}

export function summaryLines(figures: readonly NodeFigures[], counts: DriverCounts, result: Verdict, maxGrowth: number): string[] {
  const lines: string[] = [];
  for (const f of figures) {
    const check = result.heap.find((h) => h.node === f.node)!;
    lines.push(
      `node ${f.node}: heap after GC, median per quarter ${f.heapQuarters.map(mib).join(' / ')}; Q2 -> Q4 ${check.growthPct >= 0 ? '+' : ''}${check.growthPct.toFixed(1)}% (limit ${maxGrowth}%, ${check.q2Samples} and ${check.q4Samples} samples)`,
      `node ${f.node}: RSS ${mib(f.rssFirst)} -> ${mib(f.rssLast)} (max ${mib(f.rssMax)}); handles ${f.handlesFirst} -> ${f.handlesLast} (max ${f.handlesMax}); event-loop lag p99 median ${f.lagP99Median.toFixed(1)} ms, max ${f.lagP99Max.toFixed(1)} ms`,
    );
  }
  const c = counts;
  lines.push(
    `driver: ${c.logins} logins, ${c.logouts} logouts, ${c.connects} sockets opened, ${c.disconnects} closed, ${c.pushes} pushes, ${c.received} of ${c.expected} expected frames received, ${c.lost} lost, ${c.duplicates} duplicates, ${c.reloads} reloads (each checked on both nodes), ${c.errors} errors`,
  );
  lines.push(result.ok ? 'verdict: PASS' : `verdict: FAIL\n${result.failures.map((f) => `  - ${f}`).join('\n')}`);
  return lines;
}

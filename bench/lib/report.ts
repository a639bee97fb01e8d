/** The final table: one row per metric, wsmesh next to each baseline, and the ratios. */
import type { RunResult } from './load.ts';

interface Row {
  metric: string;
  value: (r: RunResult) => number | undefined;
  digits: number;
}

const ROWS: Row[] = [
  { metric: 'handshakes/s', value: (r) => r.handshakesPerSec, digits: 0 },
  { metric: 'frames delivered/s', value: (r) => r.framesPerSec, digits: 0 },
  { metric: 'push requests/s', value: (r) => r.pushesPerSec, digits: 0 },
  { metric: 'RSS per socket (KiB)', value: (r) => r.rssPerSocketKiB, digits: 1 },
  // The server's CPU per unit of work: steadier than a rate when neighbours share the machine (below 1 is better).
  { metric: 'server CPU per handshake (us)', value: (r) => r.cpuPerHandshakeUs, digits: 0 },
  { metric: 'server CPU per frame (us)', value: (r) => r.cpuPerFrameUs, digits: 1 },
  { metric: 'RSS before sockets (MiB)', value: (r) => mib(r.rssBeforeKiB), digits: 1 },
  { metric: 'RSS after sockets (MiB)', value: (r) => mib(r.rssAfterKiB), digits: 1 },
];

function mib(kib: number | undefined): number | undefined {
  return kib === undefined ? undefined : kib / 1024;
}

/** A number with `digits` decimals and thousands separators, or `n/a`. */
export function format(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function median(values: Array<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const mid = known.length >> 1;
  return known.length % 2 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

/** The nearest-rank percentile `p` (0..100) of values sorted ascending; undefined when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Renders rows as an aligned text table: the first row is the header, the first column left-aligned. */
export function render(lines: string[][]): string {
  const widths = lines[0].map((_, c) => Math.max(...lines.map((line) => line[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ');
  return [line(lines[0]), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.slice(1).map(line)].join('\n');
}

/**
 * `metric | wsmesh | plain ws | Socket.IO 4 | vs plain ws | vs Socket.IO 4`: each
 * value the median over the rounds, each ratio wsmesh's median over the baseline's.
 */
export function resultTable(subject: RunResult[], baselines: RunResult[][]): string {
  const names = baselines.map((runs) => runs[0].target);
  const lines = [['metric', subject[0].target, ...names, ...names.map((name) => `vs ${name}`)]];
  for (const row of ROWS) {
    const a = median(subject.map(row.value));
    const bs = baselines.map((runs) => median(runs.map(row.value)));
    lines.push([row.metric, format(a, row.digits), ...bs.map((b) => format(b, row.digits)), ...bs.map((b) => format(a !== undefined && b ? a / b : undefined, 2))]);
  }
  return render(lines);
}

/** One line per round and baseline with the ratios of the rates and of memory, to show the spread. */
export function roundsTable(subject: RunResult[], baselines: RunResult[][]): string {
  const perRound = ROWS.slice(0, 6);
  const lines = [['round', 'against', ...perRound.map((row) => `${row.metric} ratio`)]];
  subject.forEach((s, i) => {
    for (const runs of baselines) {
      lines.push([String(i + 1), runs[i].target, ...perRound.map((row) => format((row.value(s) ?? NaN) / (row.value(runs[i]) ?? NaN), 2))]);
    }
  });
  return render(lines);
}

/**
 * The handshake-scaling bench's results: one row per level of open sockets, the
 * rates as ratios to the baseline, and the verdict on the brief's requirement.
 */
import { format, render } from './report.ts';

/** One probe batch: P sockets opened, then closed. */
export interface Probe {
  handshakesPerSec: number;
  closesPerSec: number;
  /** Server CPU (user + system, all threads) per handshake / per close, microseconds; undefined without /proc. */
  serverUsPerHandshake?: number;
  serverUsPerClose?: number;
  /** The bench process's CPU per handshake, microseconds. */
  clientUsPerHandshake: number;
  /** Server GC time during the opening / its wall time (0..1); undefined without /metrics. */
  gcShareOfOpen?: number;
}

export interface LevelRow {
  /** Sockets open while the probes ran. */
  level: number;
  /** As printed in the first column. */
  label: string;
  probes: Probe[];
  /** Server resident memory and V8 heap in use with the level's sockets open, before its probes. */
  rssKiB?: number;
  heapUsedBytes?: number;
  /** Server CPU over a quiet spell with the level's sockets open (keep-alive only), in cores (0..n). */
  idleCpuShare?: number;
}

/** The brief's requirement: rates with 50k open >= 80% of those with 1k open. */
export const REQUIREMENT = { ratio: 0.8, low: 1000, high: 50_000 };

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianOf(row: LevelRow, value: (p: Probe) => number | undefined): number | undefined {
  const known = row.probes.map(value).filter((v): v is number => v !== undefined);
  return known.length ? median(known) : undefined;
}

export const handshakes = (row: LevelRow): number => medianOf(row, (p) => p.handshakesPerSec)!;
export const closes = (row: LevelRow): number => medianOf(row, (p) => p.closesPerSec)!;

function spread(row: LevelRow, value: (p: Probe) => number): string {
  const values = row.probes.map(value);
  return `${format(Math.min(...values), 0)}-${format(Math.max(...values), 0)}`;
}

/**
 * The baseline of each rate: the median of every round at the lowest level, at the
 * start and again after the fillers were closed, so neither a cold server nor a
 * drifting machine alone decides the ratios.
 */
export function baseline(rows: readonly LevelRow[]): { handshakes: number; closes: number } {
  const probes = rows.filter((row) => row.level === rows[0].level).flatMap((row) => row.probes);
  return { handshakes: median(probes.map((p) => p.handshakesPerSec)), closes: median(probes.map((p) => p.closesPerSec)) };
}

export function resultTable(rows: readonly LevelRow[]): string {
  const base = baseline(rows);
  const lines = [
    ['open sockets', 'handshakes/s', 'ratio', '(min-max)', 'closes/s', 'ratio', '(min-max)', 'server CPU us/handshake', 'us/close', 'GC %', 'idle CPU %', 'RSS (MiB)', 'heap (MiB)'],
  ];
  for (const row of rows) {
    lines.push([
      row.label,
      format(handshakes(row), 0),
      format(handshakes(row) / base.handshakes, 2),
      spread(row, (p) => p.handshakesPerSec),
      format(closes(row), 0),
      format(closes(row) / base.closes, 2),
      spread(row, (p) => p.closesPerSec),
      format(medianOf(row, (p) => p.serverUsPerHandshake), 0),
      format(medianOf(row, (p) => p.serverUsPerClose), 0),
      format(medianOf(row, (p) => (p.gcShareOfOpen === undefined ? undefined : p.gcShareOfOpen * 100)), 0),
      format(row.idleCpuShare === undefined ? undefined : row.idleCpuShare * 100, 1),
      format(row.rssKiB === undefined ? undefined : row.rssKiB / 1024, 1),
      format(row.heapUsedBytes === undefined ? undefined : row.heapUsedBytes / 2 ** 20, 1),
    ]);
  }
  return render(lines);
}

/** The verdict lines, and whether the requirement holds at the highest level (vacuously with one level). */
export function verdict(rows: readonly LevelRow[]): { lines: string[]; holds: boolean } {
  const base = baseline(rows);
  const top = rows.reduce((a, b) => (b.level > a.level ? b : a));
  const low = rows[0].level;
  if (top.level === low) return { lines: ['requirement: not checked, one level only (give --levels two or more)'], holds: true };
  const h = handshakes(top) / base.handshakes;
  const c = closes(top) / base.closes;
  const holds = h >= REQUIREMENT.ratio && c >= REQUIREMENT.ratio;
  const lines = [
    `requirement: rates with ${format(top.level, 0)} open >= ${REQUIREMENT.ratio * 100}% of those with ${format(low, 0)} open: ` +
      `handshakes ${format(h, 2)}, closes ${format(c, 2)} -> ${holds ? 'HOLDS' : 'DOES NOT HOLD'}`,
  ];
  if (low > REQUIREMENT.low || top.level < REQUIREMENT.high) {
    lines.push(`note: the brief states it for ${format(REQUIREMENT.low, 0)} vs ${format(REQUIREMENT.high, 0)} open sockets; this run compared ${format(low, 0)} with ${format(top.level, 0)}.`);
  }
  return { lines, holds };
}

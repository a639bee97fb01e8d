/**
 * The soak's verdict, pure: from the samples and the driver's counts to pass or
 * fail, with the figures that decided it.
 *
 * The heap rule: per node, the median of the heap-after-GC samples taken in the
 * second quarter of the run (t in [T/4, T/2)) against the median of those in the
 * last quarter (t in [3T/4, T]). More than `maxGrowth` percent is a leak. The first
 * quarter is left out: caches with a bound (dedup window, trace ring, JIT code)
 * are still filling then, which is growth but not a leak. Medians, not single
 * samples, so one sample taken during a burst of allocations does not decide.
 */

/** One sample of one node. Bytes, milliseconds, seconds since the run started. */
export interface NodeSample {
  t: number;
  node: string;
  /** V8 heap used right after a full GC (the node's inspector): what is still alive. */
  heapAfterGc: number;
  /** `nodejs_heap_size_used_bytes` at the scrape, before that GC. */
  heapUsed: number;
  rss: number;
  handles: number;
  /** p99 of the event-loop delay since the previous scrape (prom-client resets it at each scrape). */
  lagP99Ms: number;
  socketsOpen: number;
  sessions: number;
}

/** What the driver counted over the whole run. */
export interface DriverCounts {
  connects: number;
  disconnects: number;
  logins: number;
  logouts: number;
  pushes: number;
  /** Frames the driver expected: one per push per socket of its user open (and known to both nodes) when it was sent. */
  expected: number;
  received: number;
  /** Expected frames that had not arrived when their socket was closed (after waiting). */
  lost: number;
  /** The same push id received twice on one socket. */
  duplicates: number;
  reloads: number;
  errors: number;
}

export interface HeapCheck {
  node: string;
  q2Median: number;
  q4Median: number;
  q2Samples: number;
  q4Samples: number;
  growthPct: number;
  ok: boolean;
}

export interface Verdict {
  ok: boolean;
  heap: HeapCheck[];
  /** Why it failed, one sentence each; empty when ok. */
  failures: string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The heap check of one node over a run of `durationS` seconds. */
export function heapCheck(node: string, samples: readonly NodeSample[], durationS: number, maxGrowthPct: number): HeapCheck {
  const mine = samples.filter((s) => s.node === node);
  const q2 = mine.filter((s) => s.t >= durationS / 4 && s.t < durationS / 2).map((s) => s.heapAfterGc);
  const q4 = mine.filter((s) => s.t >= (3 * durationS) / 4 && s.t <= durationS).map((s) => s.heapAfterGc);
  const q2Median = median(q2);
  const q4Median = median(q4);
  const growthPct = ((q4Median - q2Median) / q2Median) * 100;
  // NaN (a quarter without samples) is not ok: no evidence is not a pass.
  return { node, q2Median, q4Median, q2Samples: q2.length, q4Samples: q4.length, growthPct, ok: growthPct <= maxGrowthPct };
}

export function verdict(nodes: readonly string[], samples: readonly NodeSample[], durationS: number, maxGrowthPct: number, counts: DriverCounts, exits: readonly string[]): Verdict {
  const heap = nodes.map((node) => heapCheck(node, samples, durationS, maxGrowthPct));
  const failures: string[] = [];
  for (const h of heap) {
    if (h.q2Samples === 0 || h.q4Samples === 0) failures.push(`node ${h.node}: no heap sample in the ${h.q2Samples === 0 ? '2nd' : '4th'} quarter`);
    else if (!h.ok) failures.push(`node ${h.node}: heap grew ${h.growthPct.toFixed(1)}% (median ${mib(h.q2Median)} in the 2nd quarter -> ${mib(h.q4Median)} in the 4th), more than ${maxGrowthPct}%`);
  }
  if (counts.lost > 0) failures.push(`${counts.lost} of ${counts.expected} frames meant for open sockets never arrived`);
  if (counts.duplicates > 0) failures.push(`${counts.duplicates} frames arrived twice on the same socket`);
  if (counts.errors > 0) failures.push(`the driver saw ${counts.errors} errors`);
  if (counts.pushes === 0 || counts.received === 0) failures.push(`nothing was delivered (${counts.pushes} pushes, ${counts.received} frames): the run proves nothing`);
  for (const exit of exits) failures.push(exit);
  return { ok: failures.length === 0, heap, failures };
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

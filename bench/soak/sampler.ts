/**
 * One sample of one node: its `/metrics` (prom-client's process and nodejs gauges,
 * `wsmesh_` prefix: docs/operations.md, "Metrics") read first, then a full GC and
 * the heap after it through the inspector. In that order, so the forced GC's pause
 * lands in the next interval's lag figures as one delay among hundreds, not in
 * this one's as the last.
 */
import type { PairNode } from '../lib/node-pair.ts';
import type { InspectorHeap } from './inspector.ts';
import type { NodeSample } from './verdict.ts';

/** `name value` lines of the Prometheus text format, labels included in the key; comments skipped. */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The value of `name` without labels, or the sum over its labelled series; throws when absent. */
export function metric(values: ReadonlyMap<string, number>, name: string): number {
  const plain = values.get(name);
  if (plain !== undefined) return plain;
  let sum = 0;
  let seen = false;
  for (const [key, value] of values) {
    if (key.startsWith(`${name}{`)) {
      sum += value;
      seen = true;
    }
  }
  if (!seen) throw new Error(`/metrics has no ${name}`);
  return sum;
}

/** Like `metric`, 0 when the node has no series yet (a labelled gauge with nothing to report). */
function metricOr0(values: ReadonlyMap<string, number>, name: string): number {
  try {
    return metric(values, name);
  } catch {
    return 0;
  }
}

export async function sampleNode(node: PairNode, heap: InspectorHeap, t: number): Promise<NodeSample> {
  const res = await node.http.request({ method: 'GET', path: '/metrics' });
  if (res.status !== 200 || typeof res.body !== 'string') throw new Error(`node ${node.name}: GET /metrics answered HTTP ${res.status}`);
  const values = parseMetrics(res.body);
  const scraped = {
    heapUsed: metric(values, 'wsmesh_nodejs_heap_size_used_bytes'),
    rss: metric(values, 'wsmesh_process_resident_memory_bytes'),
    handles: metric(values, 'wsmesh_nodejs_active_handles_total'),
    lagP99Ms: metric(values, 'wsmesh_nodejs_eventloop_lag_p99_seconds') * 1000,
    socketsOpen: metricOr0(values, 'wsmesh_sockets_open'),
    sessions: metric(values, 'wsmesh_sessions'),
  };
  return { t, node: node.name, heapAfterGc: await heap.usedAfterGc(), ...scraped };
}

/**
 * What a node holds, read from outside: its sockets (admin stats and the
 * `wsmesh_sockets_open` gauge), its live actors per machine (`wsmesh_actors_live`: the
 * inspector's counts, read without making it follow the connection actors),
 * the registry rows it keeps of other nodes' sockets, its handles and ref'd timers
 * (`process.getActiveResourcesInfo()` through prom-client's default metrics), and
 * its event-loop lag since the last scrape (prom-client resets its histogram on
 * every scrape of /metrics).
 */
import type { StormNode, StormNodes } from './nodes.ts';

export interface Reading {
  socketsLocal: number;
  /** Sockets of the whole cluster as this node sees them. */
  socketsCluster: number;
  /** Sum of `wsmesh_sockets_open` over the path prefixes. */
  socketsGauge: number;
  /** Registry rows of sockets held by other nodes (`GET /api/admin/sockets?scope=cluster`). */
  registryRemote: number;
  sessions: number;
  /** machine -> live actors. */
  actors: Record<string, number>;
  handles: number;
  /** Active resources keeping the loop alive, by type (`Timeout`, `TCPSocketWrap`, ...). */
  resources: Record<string, number>;
}

export interface Lag {
  p99Ms: number;
  maxMs: number;
  /** The node's CPU time so far (user + system), to tell how much of a core it got over a stretch. */
  cpuSeconds: number;
}

/** Prometheus text -> `name{labels}` -> value (the labels as written). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The sum of every series of `name`, and the series by the value of `label`. */
export function series(metrics: Map<string, number>, name: string, label: string): { total: number; by: Record<string, number> } {
  let total = 0;
  const by: Record<string, number> = {};
  const pattern = new RegExp(`${label}="([^"]*)"`);
  for (const [key, value] of metrics) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    total += value;
    const match = pattern.exec(key);
    if (match) by[match[1]] = value;
  }
  return { total, by };
}

async function metricsOf(node: StormNode): Promise<Map<string, number>> {
  const res = await node.admin.request({ method: 'GET', path: '/metrics' });
  if (res.status !== 200) throw new Error(`node ${node.name}: GET /metrics answered HTTP ${res.status}`);
  return parseMetrics(String(res.body));
}

/** The event-loop lag since the previous scrape of the node's /metrics (which this scrape resets). */
export async function lagSinceLastScrape(node: StormNode): Promise<Lag> {
  const metrics = await metricsOf(node);
  return {
    p99Ms: (metrics.get('wsmesh_nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000,
    maxMs: (metrics.get('wsmesh_nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000,
    cpuSeconds: metrics.get('wsmesh_process_cpu_seconds_total') ?? NaN,
  };
}

interface Stats {
  node: { id: string };
  sockets: { local: number; cluster: number };
  sessions: number;
}

export async function readNode(cluster: StormNodes, node: StormNode): Promise<Reading> {
  const stats = await cluster.get<Stats>(node, '/api/admin/stats');
  const rows = await cluster.get<Array<{ node: string }>>(node, '/api/admin/sockets?scope=cluster');
  const metrics = await metricsOf(node);
  return {
    socketsLocal: stats.sockets.local,
    socketsCluster: stats.sockets.cluster,
    socketsGauge: series(metrics, 'wsmesh_sockets_open', 'prefix').total,
    registryRemote: rows.filter((row) => row.node !== stats.node.id).length,
    sessions: stats.sessions,
    actors: series(metrics, 'wsmesh_actors_live', 'machine').by,
    handles: metrics.get('wsmesh_nodejs_active_handles_total') ?? NaN,
    resources: series(metrics, 'wsmesh_nodejs_active_resources', 'type').by,
  };
}

/** Flat `figure -> value` of a reading, for the before/after table and the comparison. */
export function flatten(reading: Reading): Record<string, number> {
  const flat: Record<string, number> = {
    'sockets (stats, local)': reading.socketsLocal,
    'sockets (stats, cluster)': reading.socketsCluster,
    'sockets (wsmesh_sockets_open)': reading.socketsGauge,
    'registry rows of other nodes': reading.registryRemote,
    sessions: reading.sessions,
    'active handles': reading.handles,
  };
  for (const [machine, live] of Object.entries(reading.actors)) flat[`live ${machine} actors`] = live;
  for (const [type, n] of Object.entries(reading.resources)) flat[`resources: ${type}`] = n;
  return flat;
}

/** The figures of `after` that differ from `before` (a figure missing on one side counts as 0 there). */
export function differences(before: Reading, after: Reading): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => (a[key] ?? 0) !== (b[key] ?? 0)).map((key) => `${key}: ${a[key] ?? 0} before, ${b[key] ?? 0} after`);
}

/**
 * The ingress bench's results: one row per measured run, the tables printed at the
 * end, and the problems that make the run fail (pure).
 */
import type { BenchBroker } from './cross-options.ts';
import { format, percentile, render } from './report.ts';

export interface RunRow {
  broker: BenchBroker;
  path: 'http' | 'mqtt';
  /** `paced` or `all-out`. */
  run: string;
  /** Paced runs: messages/s offered. */
  offered?: number;
  /** The publishes' QoS; undefined on the HTTP path. */
  qos?: 0 | 1;
  messages: number;
  /** Messages delivered per second: first arrivals / 2, from the start to the last frame. */
  perSecond: number;
  /** Latencies in ms, sorted: every frame, A's sockets', B's sockets'; and the sends' acknowledgements. */
  all: Float64Array;
  onA: Float64Array;
  onB: Float64Array;
  acks: Float64Array;
  frames: number;
  missing: number;
  duplicates: number;
  misrouted: number;
  reordered: number;
  /** Paced runs: sends that went out more than 1 ms after they were due. */
  late?: number;
  wallMs: number;
  /** CPU used during the run (ms): each node, the broker process (undefined: not measured), this bench process. */
  cpu: { a?: number; b?: number; broker?: number; bench: number };
  /** What the nodes' counters say is wrong with the run. */
  problems: string[];
}

const ms = (sorted: Float64Array, p: number) => format(percentile(sorted, p), 2);
const perMessage = (cpuMs: number | undefined, row: RunRow) => format(cpuMs === undefined ? undefined : (cpuMs * 1000) / row.messages, 0);
const runName = (r: RunRow) => (r.offered === undefined ? r.run : `${r.run} ${r.offered}/s`);

/** CPU of the servers (both nodes and the broker); undefined when the broker's own is not measured. */
export function serverCpu(row: RunRow): number | undefined {
  const { a, b, broker } = row.cpu;
  if (a === undefined || b === undefined) return undefined;
  if (row.broker === 'embedded') return a + b;
  return broker === undefined ? undefined : a + b + broker;
}

export function latencyTable(rows: RunRow[]): string {
  return render([
    ['path', 'run', 'QoS', 'messages', 'frames', 'msgs/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99 on A', 'p99 on B', 'ack p50 ms', 'ack p99 ms', 'lost', 'dup', 'misrouted', 'reordered'],
    ...rows.map((r) => [
      r.path,
      runName(r),
      r.qos === undefined ? '-' : String(r.qos),
      String(r.messages),
      String(r.frames),
      format(r.perSecond, 0),
      ms(r.all, 50),
      ms(r.all, 90),
      ms(r.all, 99),
      ms(r.all, 100),
      ms(r.onA, 99),
      ms(r.onB, 99),
      ms(r.acks, 50),
      ms(r.acks, 99),
      String(r.missing),
      String(r.duplicates),
      String(r.misrouted),
      String(r.reordered),
    ]),
  ]);
}

export function cpuTable(rows: RunRow[]): string {
  return render([
    ['path', 'run', 'wall s', 'A us/msg', 'B us/msg', 'broker us/msg', 'servers us/msg', 'bench client us/msg', 'bench client CPU %'],
    ...rows.map((r) => [
      r.path,
      runName(r),
      format(r.wallMs / 1000, 1),
      perMessage(r.cpu.a, r),
      perMessage(r.cpu.b, r),
      r.broker === 'embedded' ? 'in A' : perMessage(r.cpu.broker, r),
      perMessage(serverCpu(r), r),
      perMessage(r.cpu.bench, r),
      format((r.cpu.bench / r.wallMs) * 100, 0),
    ]),
  ]);
}

/** MQTT against HTTP, run by run: each broker's paced and all-out runs side by side. */
export function summaryTable(rows: RunRow[]): string {
  const lines = [['broker', 'run', 'HTTP msgs/s', 'MQTT msgs/s', 'MQTT/HTTP', 'HTTP p50 ms', 'MQTT p50 ms', 'HTTP p99 ms', 'MQTT p99 ms', 'HTTP servers us/msg', 'MQTT servers us/msg']];
  for (const mqtt of rows.filter((r) => r.path === 'mqtt')) {
    const http = rows.find((r) => r.path === 'http' && r.broker === mqtt.broker && r.run === mqtt.run && r.offered === mqtt.offered);
    if (!http) continue;
    lines.push([
      mqtt.broker,
      runName(mqtt),
      format(http.perSecond, 0),
      format(mqtt.perSecond, 0),
      format(mqtt.perSecond / http.perSecond, 2),
      ms(http.all, 50),
      ms(mqtt.all, 50),
      ms(http.all, 99),
      ms(mqtt.all, 99),
      perMessage(serverCpu(http), http),
      perMessage(serverCpu(mqtt), mqtt),
    ]);
  }
  return render(lines);
}

/** Every run must deliver each message exactly once on each of its user's sockets, and the counters must agree. */
export function problems(rows: RunRow[]): string[] {
  const found: string[] = [];
  for (const r of rows) {
    const name = `${r.broker} ${r.path} ${runName(r)}`;
    if (r.missing || r.duplicates || r.misrouted) found.push(`${name}: ${r.missing} frames lost, ${r.duplicates} duplicated, ${r.misrouted} misrouted`);
    for (const p of r.problems) found.push(`${name}: ${p}`);
  }
  return found;
}

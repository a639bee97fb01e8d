/**
 * The health prober of the storm (a child process of bench/storm.ts): `GET /healthz`
 * on each node every `interval` ms, over one kept-alive connection per node, as a
 * load balancer's health check does; a new probe starts only once the previous one
 * of that node answered (a slow answer shows as one long probe, not a pile-up).
 * Latencies are kept per phase (the driver names them: setup, storm, ...) and sent
 * back on `stop`.
 *
 *   argv: <interval ms> <slow limit ms> <name>=<base url> ...
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from '../report.ts';
import type { ProberCommand, ProberReport, ProbeSummary } from './messages.ts';

const PROBE_TIMEOUT_MS = 10_000;

const [intervalArg, slowArg, ...targets] = process.argv.slice(2);
const interval = Number(intervalArg);
const slowMs = Number(slowArg);
let phase = 'setup';
let phaseStart = performance.now();
/** The prober's own worst timer lateness per phase: a slow probe is the node's only when the prober was not late itself. */
const selfLag = new Map<string, number>();
const LAG_TICK_MS = 10;
let lastTick = performance.now();
const lagTimer = setInterval(() => {
  const now = performance.now();
  const late = now - lastTick - LAG_TICK_MS;
  lastTick = now;
  if (late > (selfLag.get(phase) ?? 0)) selfLag.set(phase, late);
}, LAG_TICK_MS);

interface Target {
  name: string;
  url: URL;
  agent: http.Agent;
  inFlight: boolean;
  /** phase -> latencies (ms), failures, and when (ms into the phase) each slow probe started */
  phases: Map<string, { latencies: number[]; failed: number; slowAt: Array<{ atMs: number; ms: number }> }>;
}

const nodes: Target[] = targets.map((arg) => {
  const at = arg.indexOf('=');
  return { name: arg.slice(0, at), url: new URL('/healthz', arg.slice(at + 1)), agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), inFlight: false, phases: new Map() };
});

function record(target: Target, start: number, latency: number | undefined): void {
  let entry = target.phases.get(phase);
  if (!entry) target.phases.set(phase, (entry = { latencies: [], failed: 0, slowAt: [] }));
  if (latency === undefined) entry.failed++;
  else entry.latencies.push(latency);
  if (latency !== undefined && latency > slowMs) entry.slowAt.push({ atMs: Math.round(start - phaseStart), ms: Math.round(latency) });
}

function probe(target: Target): void {
  if (target.inFlight) return;
  target.inFlight = true;
  const start = performance.now();
  const done = (ok: boolean) => {
    target.inFlight = false;
    record(target, start, ok ? performance.now() - start : undefined);
  };
  const req = http.get(target.url, { agent: target.agent, timeout: PROBE_TIMEOUT_MS }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode === 200));
    res.on('error', () => done(false));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => done(false));
}

const timer = setInterval(() => {
  for (const target of nodes) probe(target);
}, interval);

function summaries(): ProbeSummary[] {
  const out: ProbeSummary[] = [];
  for (const target of nodes) {
    for (const [name, { latencies, failed, slowAt }] of target.phases) {
      const sorted = Float64Array.from(latencies).sort();
      out.push({
        node: target.name,
        phase: name,
        probes: latencies.length + failed,
        p50: percentile(sorted, 50) ?? NaN,
        p99: percentile(sorted, 99) ?? NaN,
        max: sorted.length ? sorted[sorted.length - 1] : NaN,
        slow: latencies.filter((ms) => ms > slowMs).length,
        failed,
        slowAt,
        proberLagMs: Math.round(selfLag.get(name) ?? 0),
      });
    }
  }
  return out;
}

const send = (report: ProberReport) => process.send!(report);

process.on('message', (command: ProberCommand) => {
  if (command.type === 'phase') {
    phase = command.name;
    phaseStart = performance.now();
  } else {
    clearInterval(timer);
    clearInterval(lagTimer);
    send({ type: 'summary', summaries: summaries() });
    for (const target of nodes) target.agent.destroy();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'started' });

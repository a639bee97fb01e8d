/**
 * The storm's figures and verdicts, from what the driver gathered: pure, so the
 * rules (what counts as back, as slow, as leaked) are plain to read and to test.
 */
import { format, percentile, render } from '../report.ts';
import type { ProbeSummary } from './messages.ts';
import { flatten, differences, type Lag, type Reading } from './readings.ts';
import type { StormOutcome } from './workers.ts';

/** The prober's phases the health check judges: the drop until every client is back, then the delivery check. */
export const STORM_PHASES = ['storm', 'after'];

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Gathered {
  sockets: number;
  withinMs: number;
  healthzLimitMs: number;
  outcome: StormOutcome;
  /** Per node: the event-loop lag from the drop until every client was back. */
  lag: Array<{ node: string; lag: Lag; /** CPU time over wall time, drop to last back: how much of a core the node got. */ coreShare: number }>;
  /** Per node: sockets held once every client was back. */
  split: Array<{ node: string; sockets: number }>;
  delivery: { exactlyOne: number; none: number; more: number };
  probes: ProbeSummary[];
  /** Per node: readings before the sockets opened, and after they all closed. */
  leaks: Array<{ node: string; before: Reading; after: Reading }>;
  closedByServer: number;
}

export function reconnectFigures(outcome: StormOutcome): { p50: number; p99: number; last: number; attemptsMax: number; attemptsMean: number } {
  const sorted = Float64Array.from(outcome.reconnectMs).sort();
  let sum = 0, max = 0;
  for (const a of outcome.attempts) {
    sum += a;
    if (a > max) max = a;
  }
  return {
    p50: percentile(sorted, 50) ?? NaN,
    p99: percentile(sorted, 99) ?? NaN,
    last: sorted.length ? sorted[sorted.length - 1] : NaN,
    attemptsMax: max,
    attemptsMean: sum / Math.max(1, outcome.attempts.length),
  };
}

export function checks(g: Gathered): Check[] {
  const r = reconnectFigures(g.outcome);
  // The storm's window: from the drop until the delivery check (opening and closing are printed, not judged).
  const slowProbes = g.probes.filter((p) => STORM_PHASES.includes(p.phase) && (p.slow > 0 || p.failed > 0));
  const leaked = g.leaks.flatMap(({ node, before, after }) => differences(before, after).map((d) => `node ${node}: ${d}`));
  return [
    { name: `every client back within ${g.withinMs / 1000} s`, ok: r.last <= g.withinMs && g.outcome.reconnectMs.length === g.sockets, detail: `last back after ${format(r.last / 1000, 2)} s (${g.outcome.reconnectMs.length} of ${g.sockets})` },
    {
      name: `/healthz within ${g.healthzLimitMs} ms throughout the storm`,
      ok: slowProbes.length === 0,
      detail: slowProbes.length ? slowProbes.map((p) => `node ${p.node} ${p.phase}: ${p.slow} slow, ${p.failed} failed of ${p.probes}`).join('; ') : `${g.probes.filter((p) => STORM_PHASES.includes(p.phase)).reduce((n, p) => n + p.probes, 0)} probes, none slow or failed`,
    },
    { name: 'one push per user reaches every socket once', ok: g.delivery.exactlyOne === g.sockets, detail: `${g.delivery.exactlyOne} sockets got it once, ${g.delivery.none} none, ${g.delivery.more} more than once` },
    { name: 'no socket closed by the server before the drop', ok: g.closedByServer === 0, detail: `${g.closedByServer}` },
    { name: 'nothing leaked (every count back to its value before the run)', ok: leaked.length === 0, detail: leaked.length ? leaked.join('; ') : 'all equal' },
  ];
}

/** The printed report: reconnects, health probes, lag, the before/after table, the checks. */
export function renderFigures(g: Gathered, list: Check[]): string {
  const r = reconnectFigures(g.outcome);
  const out: string[] = [];
  out.push(
    `reconnect: ${format(g.sockets, 0)} sockets back; p50 ${format(r.p50, 0)} ms, p99 ${format(r.p99, 0)} ms, last ${format(r.last, 0)} ms after the drop; ` +
      `attempts per socket mean ${format(r.attemptsMean, 2)}, max ${r.attemptsMax}`,
  );
  const failures = Object.entries(g.outcome.failures);
  out.push(`failed attempts: ${failures.length ? failures.map(([why, n]) => `${why} ${n}`).join(', ') : 'none'}`);
  out.push(`sockets per node after the storm: ${g.split.map((s) => `${s.node} ${format(s.sockets, 0)}`).join(', ')}`);
  out.push(`event-loop lag from the drop until all were back: ${g.lag.map((l) => `node ${l.node} p99 ${format(l.lag.p99Ms, 1)} ms, max ${format(l.lag.maxMs, 1)} ms`).join('; ')}`);
  out.push(`CPU the node used meanwhile: ${g.lag.map((l) => `node ${l.node} ${format(l.coreShare * 100, 0)}% of a core`).join('; ')}`);
  out.push('');
  out.push(
    render([
      ['/healthz', 'phase', 'probes', 'p50 ms', 'p99 ms', 'max ms', `> ${g.healthzLimitMs} ms`, 'failed', 'prober late ms'],
      ...g.probes.map((p) => [`node ${p.node}`, p.phase, String(p.probes), format(p.p50, 1), format(p.p99, 1), format(p.max, 1), String(p.slow), String(p.failed), format(p.proberLagMs, 0)]),
    ]),
  );
  for (const p of g.probes.filter((p) => p.slowAt.length > 0)) {
    out.push(`slow /healthz on node ${p.node} in ${p.phase} (started at ms into the phase: took ms): ${p.slowAt.map((s) => `+${s.atMs}: ${s.ms}`).join(', ')}`);
  }
  out.push('');
  for (const { node, before, after } of g.leaks) {
    const a = flatten(before);
    const b = flatten(after);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    out.push(render([[`node ${node}`, 'before', 'after'], ...keys.map((k) => [k, String(a[k] ?? 0), String(b[k] ?? 0)])]));
    out.push('');
  }
  for (const c of list) out.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  return out.join('\n');
}

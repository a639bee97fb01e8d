import { expect } from 'chai';
import { backoffDelay, SOCKET_IO_BACKOFF } from '../../bench/lib/storm/backoff.ts';
import { checks, type Gathered } from '../../bench/lib/storm/figures.ts';
import { differences, parseMetrics, series, type Reading } from '../../bench/lib/storm/readings.ts';

const reading = (over: Partial<Reading> = {}): Reading => ({
  socketsLocal: 0,
  socketsCluster: 0,
  socketsGauge: 0,
  registryRemote: 0,
  sessions: 3,
  actors: { connection: 0, node: 1 },
  handles: 10,
  resources: { Timeout: 4 },
  ...over,
});

function gathered(over: Partial<Gathered> = {}): Gathered {
  return {
    sockets: 3,
    withinMs: 30_000,
    healthzLimitMs: 100,
    outcome: { reconnectMs: Float64Array.from([900, 1200, 2500]), attempts: Uint16Array.from([1, 1, 2]), failures: {}, forwarded: {} },
    lag: [{ node: 'A', lag: { p99Ms: 40, maxMs: 90, cpuSeconds: 12 }, coreShare: 0.8 }],
    split: [{ node: 'A', sockets: 3 }],
    delivery: { exactlyOne: 3, none: 0, more: 0 },
    probes: [{ node: 'A', phase: 'storm', probes: 40, p50: 2, p99: 30, max: 60, slow: 0, failed: 0, slowAt: [], proberLagMs: 3 }],
    leaks: [{ node: 'A', before: reading(), after: reading() }],
    closedByServer: 0,
    ...over,
  };
}

const failing = (g: Gathered) => checks(g).filter((c) => !c.ok).map((c) => c.name);

describe('storm backoff', () => {
  describe('#backoffDelay', () => {
    it('starts at the initial delay, doubles per failed attempt and stops at the maximum (no jitter at random 0.5)', () => {
      const delays = [0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, SOCKET_IO_BACKOFF, () => 0.5));
      expect(delays).to.deep.equal([1000, 2000, 4000, 5000, 5000]);
    });

    it('moves each delay by up to the jitter either way, and never above the maximum', () => {
      expect(backoffDelay(0, SOCKET_IO_BACKOFF, () => 0)).to.equal(500);
      expect(backoffDelay(0, SOCKET_IO_BACKOFF, () => 0.999999)).to.equal(1500);
      expect(backoffDelay(2, SOCKET_IO_BACKOFF, () => 0.999999)).to.equal(5000);
      expect(backoffDelay(1000, SOCKET_IO_BACKOFF, () => 0)).to.equal(2500);
    });
  });
});

describe('storm readings', () => {
  describe('#parseMetrics / #series', () => {
    it('sums a metric over its series and keeps each by label', () => {
      const metrics = parseMetrics('# HELP x\nwsmesh_actors_live{machine="connection"} 12\nwsmesh_actors_live{machine="node"} 1\nwsmesh_actors_live_other 5\n');
      expect(series(metrics, 'wsmesh_actors_live', 'machine')).to.deep.equal({ total: 13, by: { connection: 12, node: 1 } });
    });
  });

  describe('#differences', () => {
    it('names every count that moved, a type missing on one side counting as 0', () => {
      const after = reading({ actors: { connection: 2, node: 1 }, resources: { Timeout: 4, TCPSocketWrap: 1 } });
      expect(differences(reading(), after)).to.deep.equal(['live connection actors: 0 before, 2 after', 'resources: TCPSocketWrap: 0 before, 1 after']);
      expect(differences(reading(), reading())).to.deep.equal([]);
    });
  });
});

describe('storm checks', () => {
  it('passes a storm where everything came back in time, answered fast, delivered once and left nothing', () => {
    expect(failing(gathered())).to.deep.equal([]);
  });

  it('fails when the last client came back after the limit, or some never did', () => {
    expect(failing(gathered({ withinMs: 2000 }))).to.deep.equal(['every client back within 2 s']);
    expect(failing(gathered({ sockets: 4 }))).to.include('every client back within 30 s');
  });

  it('fails on a slow or failed health probe during the storm, not while opening or closing', () => {
    const probe = { node: 'A', probes: 10, p50: 2, p99: 150, max: 150, slow: 1, failed: 0, slowAt: [{ atMs: 500, ms: 150 }], proberLagMs: 3 };
    expect(failing(gathered({ probes: [{ ...probe, phase: 'storm' }] }))).to.deep.equal(['/healthz within 100 ms throughout the storm']);
    expect(failing(gathered({ probes: [{ ...probe, phase: 'after', slow: 0, failed: 1 }] }))).to.deep.equal(['/healthz within 100 ms throughout the storm']);
    expect(failing(gathered({ probes: [{ ...probe, phase: 'closing' }] }))).to.deep.equal([]);
  });

  it('fails when a socket missed the check push or got it twice, and on any leaked count', () => {
    expect(failing(gathered({ delivery: { exactlyOne: 2, none: 0, more: 1 } }))).to.deep.equal(['one push per user reaches every socket once']);
    const leaks = [{ node: 'A', before: reading(), after: reading({ registryRemote: 1 }) }];
    expect(failing(gathered({ leaks }))).to.deep.equal(['nothing leaked (every count back to its value before the run)']);
  });
});

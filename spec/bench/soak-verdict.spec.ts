import { expect } from 'chai';
import { heapCheck, median, verdict, type DriverCounts, type NodeSample } from '../../bench/soak/verdict.ts';
import { metric, parseMetrics } from '../../bench/soak/sampler.ts';

const MIB = 1048576;
const CLEAN: DriverCounts = { connects: 10, disconnects: 10, logins: 10, logouts: 10, pushes: 100, expected: 150, received: 150, lost: 0, duplicates: 0, reloads: 4, errors: 0 };

/** Samples every 10 s over `durationS` for node A, with heap `heapAt(t)` MiB. */
function series(durationS: number, heapAt: (t: number) => number): NodeSample[] {
  const samples: NodeSample[] = [];
  for (let t = 0; t <= durationS; t += 10) {
    samples.push({ t, node: 'A', heapAfterGc: heapAt(t) * MIB, heapUsed: 0, rss: 0, handles: 0, lagP99Ms: 0, socketsOpen: 0, sessions: 0 });
  }
  return samples;
}

describe('soak verdict', () => {
  describe('#median', () => {
    it('takes the middle value, or the mean of the two middle ones', () => {
      expect(median([3, 1, 2])).to.equal(2);
      expect(median([4, 1, 3, 2])).to.equal(2.5);
      expect(median([])).to.be.NaN;
    });
  });

  describe('#heapCheck', () => {
    it('compares the median of the 2nd quarter with that of the 4th, leaving the 1st out', () => {
      // 120 s: Q2 is t 30, 40, 50; Q4 is t 90..120. The first quarter's climb does not count.
      const check = heapCheck('A', series(120, (t) => (t < 30 ? 10 : t < 90 ? 20 : 21)), 120, 10);
      expect(check).to.include({ q2Samples: 3, q4Samples: 4, q2Median: 20 * MIB, q4Median: 21 * MIB, ok: true });
      expect(check.growthPct).to.be.closeTo(5, 1e-9);
    });

    it('fails a steady climb of more than the limit', () => {
      const check = heapCheck('A', series(120, (t) => 20 + t / 10), 120, 10);
      expect(check.ok).to.equal(false);
      expect(check.growthPct).to.be.greaterThan(10);
    });

    it('is not moved by one high sample in a quarter (a sample taken mid-burst)', () => {
      expect(heapCheck('A', series(120, (t) => (t === 100 ? 40 : 20)), 120, 10).ok).to.equal(true);
    });

    it('fails without samples in a compared quarter: no evidence is not a pass', () => {
      expect(heapCheck('B', series(120, () => 20), 120, 10).ok).to.equal(false);
    });
  });

  describe('#verdict', () => {
    const flat = series(120, () => 20);

    it('passes a flat heap with every frame received and no error', () => {
      expect(verdict(['A'], flat, 120, 10, CLEAN, [])).to.deep.include({ ok: true, failures: [] });
    });

    it('fails on lost frames, duplicates, errors, a node exit, or nothing delivered, saying each', () => {
      const bad = verdict(['A'], flat, 120, 10, { ...CLEAN, lost: 2, duplicates: 1, errors: 3 }, ['node B exited (signal SIGKILL)']);
      expect(bad.ok).to.equal(false);
      expect(bad.failures).to.have.length(4);
      expect(bad.failures.join('\n')).to.match(/2 of 150 frames/).and.match(/1 frames arrived twice/).and.match(/3 errors/).and.match(/node B exited/);
      expect(verdict(['A'], flat, 120, 10, { ...CLEAN, pushes: 0, received: 0, expected: 0 }, []).ok).to.equal(false);
    });
  });
});

describe('soak sampler: /metrics text', () => {
  const text = [
    '# HELP wsmesh_nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.',
    '# TYPE wsmesh_nodejs_heap_size_used_bytes gauge',
    'wsmesh_nodejs_heap_size_used_bytes 25165824',
    'wsmesh_sockets_open{prefix="/ws"} 3',
    'wsmesh_sockets_open{prefix="/socket.io"} 4',
    'wsmesh_nodejs_eventloop_lag_p99_seconds 0.0243',
  ].join('\n');

  it('reads a plain gauge, sums a labelled one, and refuses a missing one', () => {
    const values = parseMetrics(text);
    expect(metric(values, 'wsmesh_nodejs_heap_size_used_bytes')).to.equal(25165824);
    expect(metric(values, 'wsmesh_sockets_open')).to.equal(7);
    expect(metric(values, 'wsmesh_nodejs_eventloop_lag_p99_seconds')).to.equal(0.0243);
    expect(() => metric(values, 'wsmesh_process_resident_memory_bytes')).to.throw(/no wsmesh_process_resident_memory_bytes/);
  });
});

/**
 * The soak script for 2 minutes, as CI runs it: `bench/soak.ts --minutes 2
 * --interval 10` in a child process (two nodes, a broker: Mosquitto when installed),
 * then its exit status and its summary.json. The heap rule on so short a run holds
 * because the script samples the heap after a forced full GC and compares medians
 * of quarters, with its caches' retention shortened to fill in the first quarter
 * (docs/operations.md, "Soak").
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINUTES = 2;
const INTERVAL_S = 10;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Summary {
  ok: boolean;
  failures: string[];
  heap: Array<{ node: string; q2Median: number; q4Median: number; q2Samples: number; q4Samples: number; growthPct: number }>;
  counts: Record<string, number>;
  errors: string[];
}

describe('soak (2 minutes)', function () {
  // 2 minutes of load, the build, the start and the drain of every client.
  this.timeout(6 * 60_000);
  let out: string;
  let child: ChildProcess | undefined;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'wsmesh-soak-'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      // SIGINT: the script stops its nodes and broker before it exits.
      child.kill('SIGINT');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 15_000);
      await new Promise((resolve) => child!.once('exit', resolve));
      clearTimeout(timer);
    }
    rmSync(out, { recursive: true, force: true });
  });

  it('keeps the heap flat, delivers every push to its open sockets, and sees no error', async () => {
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak.ts', '--minutes', String(MINUTES), '--interval', String(INTERVAL_S), '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => (output += text));
    }
    const status = await new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const tail = output.split('\n').slice(-40).join('\n');
    // The script's own figures, as it printed them (per quarter, per node, and the driver's counts).
    const figures = output.split('\n').filter((line) => /\] (node [AB]: (heap|RSS)|driver:|verdict:)/.test(line));
    process.stdout.write(`      ${figures.join('\n      ')}\n`);

    expect(status, `the soak exited with ${status}:\n${tail}`).to.equal(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.failures, tail).to.deep.equal([]);
    expect(summary.ok).to.equal(true);
    for (const heap of summary.heap) {
      expect(heap.q2Samples, `node ${heap.node}: samples in the 2nd quarter`).to.be.at.least(3);
      expect(heap.q4Samples, `node ${heap.node}: samples in the 4th quarter`).to.be.at.least(3);
      expect(heap.growthPct, `node ${heap.node}: heap growth Q2 -> Q4`).to.be.at.most(10);
    }
    const c = summary.counts;
    expect(c.pushes, 'pushes answered 202').to.be.greaterThan(1000);
    expect(c.received, 'expected frames received').to.equal(c.expected);
    expect(c.expected).to.be.greaterThan(1000);
    expect(c.lost + c.duplicates + c.errors, summary.errors.join('\n')).to.equal(0);
    expect(c.logouts, 'every login logged out').to.equal(c.logins);
    expect(c.disconnects, 'every socket closed').to.equal(c.connects);
    expect(c.reloads, 'reloads checked on both nodes').to.be.at.least(6);

    const csv = readFileSync(join(out, 'soak.csv'), 'utf8').trim().split('\n');
    // A header, then one row per node per sample: t = 0, 10, ..., 120.
    expect(csv.length).to.equal(1 + 2 * (1 + (MINUTES * 60) / INTERVAL_S));
    expect(readFileSync(join(out, 'soak.png')).subarray(0, 8).equals(PNG_SIGNATURE), 'soak.png is a PNG').to.equal(true);
  });
});

/**
 * The fuzz targets (spec/fuzz/targets/) with fixed seeds and bounded counts, each
 * against real running nodes. Each prints its counts by answer; a finding fails
 * with the seed and the minimised input (`npm run fuzz -- --target T --seed S`
 * replays it with larger counts).
 */
import { expect } from 'chai';
import { formatReport, runTarget } from './support/engine.ts';
import { TARGETS } from './targets/index.ts';

/** Fixed: the same inputs on every run. */
const SEED = 20_131;

describe('fuzz', function () {
  this.timeout(60_000);
  for (const target of TARGETS) {
    it(`${target.name}: ${target.summary}: no crash, only documented answers, no socket left open`, async () => {
      const report = await runTarget(target, { seed: SEED, count: target.counts.test });
      const lines = formatReport(report);
      process.stdout.write(lines.map((l) => `      ${l}`).join('\n') + '\n');
      expect(report.sent).to.equal(target.counts.test);
      expect(report.crashes, lines.join('\n')).to.equal(0);
      expect(report.findings.map((f) => f.problem), lines.join('\n')).to.deep.equal([]);
      expect(report.settleProblems, lines.join('\n')).to.deep.equal([]);
    });
  }
});

/**
 * `npm run fuzz`: the fuzz targets of spec/fuzz/ with larger counts, against real
 * nodes. Prints progress and per-target counts; exits 1 on a finding, printing the
 * seed and the minimised input (replay it with the same --seed and --target).
 *
 *   npm run fuzz -- [--seed N] [--count N] [--target NAME[,NAME]] [--help]
 */
import { formatReport, runTarget } from '../spec/fuzz/support/engine.ts';
import { TARGETS } from '../spec/fuzz/targets/index.ts';

const HELP = `Usage: npm run fuzz -- [options]

Fuzzes a real wsmesh node (or two, or a node process) with seeded, mutated input.

Options:
  --seed N         seed of the run (default: from the clock, printed); the same seed replays the same inputs
  --count N        inputs per target (default: each target's own, below)
  --target NAME    only these targets, comma-separated
  --help           this text

Targets:
${TARGETS.map((t) => `  ${t.name.padEnd(12)} ${String(t.counts.run).padStart(5)}  ${t.summary}`).join('\n')}

Exit code: 0 when no target found anything, 1 on a finding, 2 on a usage error.`;

function usage(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}\n`);
  process.exit(2);
}

function parse(argv: string[]): { seed: number; count?: number; targets: typeof TARGETS } {
  let seed = Date.now() % 1_000_000;
  let count: number | undefined;
  let targets = TARGETS;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${HELP}\n`);
      process.exit(0);
    } else if (flag === '--seed') {
      seed = Number(value());
      if (!Number.isSafeInteger(seed) || seed < 0) usage('--seed must be a non-negative integer');
    } else if (flag === '--count') {
      count = Number(value());
      if (!Number.isSafeInteger(count) || count < 1) usage('--count must be a positive integer');
    } else if (flag === '--target') {
      const names = value().split(',');
      const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
      if (unknown.length) usage(`unknown target ${unknown.join(', ')}`);
      targets = TARGETS.filter((t) => names.includes(t.name));
    } else usage(`unknown option ${flag}`);
  }
  return { seed, count, targets };
}

const { seed, count, targets } = parse(process.argv.slice(2));
process.stdout.write(`fuzz: seed ${seed}, targets ${targets.map((t) => t.name).join(', ')}\n`);
let failed = false;
const started = Date.now();
for (const target of targets) {
  const n = count ?? target.counts.run;
  process.stdout.write(`${target.name}: ${n} inputs...\n`);
  const report = await runTarget(target, { seed, count: n, progressEvery: Math.max(100, Math.round(n / 5)), progress: (sent) => process.stdout.write(`  ${target.name}: ${sent}/${n}\n`) });
  process.stdout.write(`${formatReport(report).join('\n')}\n`);
  if (report.crashes || report.findings.length || report.settleProblems.length) failed = true;
}
process.stdout.write(`fuzz: ${failed ? 'FINDINGS' : 'no findings'} (seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.exit(failed ? 1 : 0);

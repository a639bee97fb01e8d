/**
 * The fuzz engine: a target makes inputs from a seeded Random, sends each to a real
 * running node, and judges the answer (oracle.ts). The engine counts answers,
 * checks the node after the run, and shrinks a failing input (shrink.ts) so the
 * report shows the smallest one, with the seed that made it.
 */
import { seeded, type Random } from '../../support/random.ts';
import { shrinkInput } from './shrink.ts';

/**
 * One input: `parts` are what the target writes (frames, header lines, a body, a
 * file's text), `meta` what it needs besides (a route, a topic); the shrinker
 * removes parts and bytes, never meta.
 */
export interface FuzzInput {
  meta: Record<string, string>;
  parts: Buffer[];
}

/** How the target answered one input: a label to count (`http 400 ERR_BAD_REQUEST`, `close 1002`), and a problem if the oracle refuses it. */
export interface Verdict {
  answer: string;
  problem?: string;
}

export interface TargetSession {
  generate(rng: Random, index: number): FuzzInput;
  send(input: FuzzInput): Promise<Verdict>;
  /** Whether the node still answers `/healthz` (every node of the target). */
  alive(): Promise<boolean>;
  /** The checks after the run, e.g. `/metrics` shows 0 open sockets; each string is a problem. */
  settle(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface FuzzTarget {
  name: string;
  summary: string;
  /** Inputs in `npm test` and in `npm run fuzz` when `--count` is not given. */
  counts: { test: number; run: number };
  start(): Promise<TargetSession>;
}

export interface Finding {
  index: number;
  problem: string;
  input: FuzzInput;
  minimised: FuzzInput;
}

export interface FuzzReport {
  target: string;
  seed: number;
  sent: number;
  answers: Record<string, number>;
  crashes: number;
  findings: Finding[];
  /** End-of-run problems: a node that stopped answering, sockets left open. */
  settleProblems: string[];
  ms: number;
}

export interface RunOptions {
  seed: number;
  count: number;
  /** Called every `every` inputs with the number sent so far. */
  progress?: (sent: number) => void;
  progressEvery?: number;
  /** Findings shrunk at most; more are counted but kept as found. */
  maxShrunk?: number;
}

/** What a problem is about, without its details: a shrunk input must fail the same way, not just fail. */
function problemKind(problem: string | undefined): string | undefined {
  return problem?.replace(/:.*$/s, '').replace(/\d{4,}/g, 'N');
}

/** The seed of input `index`: each input can be replayed alone (`--seed S` replays the whole run). */
export function inputSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<FuzzReport> {
  const started = Date.now();
  const session = await target.start();
  const report: FuzzReport = { target: target.name, seed: options.seed, sent: 0, answers: {}, crashes: 0, findings: [], settleProblems: [], ms: 0 };
  try {
    for (let index = 0; index < options.count; index++) {
      const input = session.generate(seeded(inputSeed(options.seed, index)), index);
      const verdict = await session.send(input);
      report.sent++;
      report.answers[verdict.answer] = (report.answers[verdict.answer] ?? 0) + 1;
      let problem = verdict.problem;
      if (!problem && index % 25 === 24 && !(await session.alive())) problem = 'the node stopped answering /healthz';
      if (problem) {
        if (problem.includes('/healthz')) report.crashes++;
        const shrink = report.findings.length < (options.maxShrunk ?? 3) && !problem.includes('/healthz');
        const kind = problemKind(problem);
        const minimised = shrink ? await shrinkInput(input, async (candidate) => problemKind((await session.send(candidate)).problem) === kind) : input;
        report.findings.push({ index, problem, input, minimised });
        if (report.crashes) break;
      }
      if (options.progress && (index + 1) % (options.progressEvery ?? 100) === 0) options.progress(index + 1);
    }
    if (!(await session.alive())) {
      report.crashes++;
      report.settleProblems.push('the node stopped answering /healthz');
    } else report.settleProblems.push(...(await session.settle()));
  } finally {
    await session.stop();
  }
  report.ms = Date.now() - started;
  return report;
}

/** An input as text a person can read and a test can paste back (`parts` in base64 and as escaped text). */
export function describeInput(input: FuzzInput): string {
  return JSON.stringify({ meta: input.meta, parts: input.parts.map((p) => p.toString('base64')) });
}

/** The input for a person: long meta values and parts cut to their first 300 characters. */
export function showInput(input: FuzzInput): string {
  const meta = Object.fromEntries(Object.entries(input.meta).map(([k, v]) => [k, v.length > 300 ? `${v.slice(0, 300)}...(${v.length} chars)` : v]));
  return JSON.stringify({ meta, parts: input.parts.map(printable) });
}

/** The inverse of describeInput, for regression tests. */
export function inputFrom(json: { meta: Record<string, string>; parts: string[] }): FuzzInput {
  return { meta: json.meta, parts: json.parts.map((p) => Buffer.from(p, 'base64')) };
}

function printable(part: Buffer): string {
  const text = part.length > 300 ? `${part.subarray(0, 300).toString('latin1')}...(${part.length} bytes)` : part.toString('latin1');
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The report's lines: counts by answer, crashes, findings with seed and minimised input. */
export function formatReport(report: FuzzReport): string[] {
  const answers = Object.entries(report.answers)
    .sort((a, b) => b[1] - a[1])
    .map(([answer, n]) => `${answer}: ${n}`)
    .join(', ');
  const lines = [`${report.target}: seed ${report.seed}, ${report.sent} inputs in ${(report.ms / 1000).toFixed(1)} s, crashes ${report.crashes}, findings ${report.findings.length + report.settleProblems.length}`, `  answers: ${answers}`];
  // One line per kind of problem: its first input, minimised, and how many more were like it.
  const kinds = new Map<string | undefined, Finding[]>();
  for (const f of report.findings) kinds.set(problemKind(f.problem), [...(kinds.get(problemKind(f.problem)) ?? []), f]);
  for (const [, [f, ...more]] of kinds) {
    lines.push(`  FINDING #${f.index} (seed ${report.seed}, --target ${report.target}): ${f.problem}${more.length ? ` (and ${more.length} more like it: #${more.map((m) => m.index).join(', #')})` : ''}`);
    lines.push(`    minimised: ${showInput(f.minimised)}`, `    replay: ${describeInput(f.minimised).slice(0, 4000)}`);
  }
  for (const p of report.settleProblems) lines.push(`  FINDING after the run: ${p}`);
  return lines;
}

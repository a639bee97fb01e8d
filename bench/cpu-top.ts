/**
 * The top of a V8 CPU profile (`node --cpu-prof`, e.g. through
 * `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"`): self time per function,
 * and per package (node_modules/<name>, node's internals, the project's own src/),
 * largest first.
 *
 *   npx tsx bench/cpu-top.ts FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { format, render } from './lib/report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: cpu-top.ts FILE.cpuprofile [--top 30]\n');
  process.exit(1);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time from the samples and their time deltas (hitCount alone ignores uneven intervals).
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function packageOf(url: string): string {
  if (!url) return '(native / v8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const src = url.indexOf('/src/');
  if (src >= 0) return 'wsmesh src';
  return url.includes('/bench/') ? 'bench server' : url;
}

const functions = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const file = url.replace(/^.*\/(node_modules|src|dist)\//, '$1/');
  const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
  functions.set(key, (functions.get(key) ?? 0) + us);
  const pkg = packageOf(url);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
}

const share = (us: number) => `${((us / totalUs) * 100).toFixed(1)}%`;
console.log(`profile: ${format(totalUs / 1000, 0)} ms sampled over ${format((profile.endTime - profile.startTime) / 1000, 0)} ms`);
console.log(render([['package', 'self ms', 'share'], ...[...packages].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, format(us / 1000, 0), share(us)])]));
console.log('');
console.log(
  render([
    ['function', 'self ms', 'share'],
    ...[...functions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(values.top))
      .map(([k, us]) => [k.length > 90 ? k.slice(0, 87) + '...' : k, format(us / 1000, 0), share(us)]),
  ]),
);

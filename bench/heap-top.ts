/**
 * The top of a V8 heap snapshot: objects grouped by constructor (or by type for
 * strings, closures, arrays...), with their count and self size, largest first.
 * For the profiling step of a performance change: take a snapshot of the server at
 * N sockets (`BENCH_HEAP_SNAPSHOT=1 npm run bench:local-fanout`, which signals the
 * wsmesh child started with --heapsnapshot-signal once its sockets are open) and
 * read what each socket costs.
 *
 *   npx tsx bench/heap-top.ts FILE.heapsnapshot [--top 25] [--per N]
 *
 * `--per N` also prints bytes and objects per socket (each row divided by N).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { format, render } from './lib/report.ts';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, per: { type: 'string' } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: heap-top.ts FILE.heapsnapshot [--top 25] [--per SOCKETS]\n');
  process.exit(1);
}
const top = Number(values.top);
const per = values.per ? Number(values.per) : undefined;

process.stderr.write(`reading ${positionals[0]} ...\n`);
const snap = JSON.parse(readFileSync(positionals[0], 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const typeAt = fields.indexOf('type');
const nameAt = fields.indexOf('name');
const sizeAt = fields.indexOf('self_size');

const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt]];
  const size = snap.nodes[i + sizeAt];
  // Objects by constructor; everything else (strings, code, closures, arrays) by type.
  const key = type === 'object' ? snap.strings[snap.nodes[i + nameAt]] : type === 'closure' ? `closure ${snap.strings[snap.nodes[i + nameAt]] || '(anonymous)'}` : `(${type})`;
  const group = groups.get(key) ?? { count: 0, bytes: 0 };
  group.count++;
  group.bytes += size;
  groups.set(key, group);
  total += size;
}

const rows = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
const header = ['constructor / type', 'objects', 'KiB', 'share', ...(per ? ['objects/socket', 'bytes/socket'] : [])];
console.log(`heap: ${format(total / 1024 / 1024, 1)} MiB in ${format(snap.nodes.length / width, 0)} objects`);
console.log(
  render([
    header,
    ...rows.map(([key, g]) => [
      key.length > 60 ? key.slice(0, 57) + '...' : key,
      format(g.count, 0),
      format(g.bytes / 1024, 0),
      `${((g.bytes / total) * 100).toFixed(1)}%`,
      ...(per ? [format(g.count / per, 2), format(g.bytes / per, 0)] : []),
    ]),
  ]),
);

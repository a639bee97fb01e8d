/**
 * `wsmesh statecharts export [--out DIR]`: writes the actors' statecharts (Mermaid,
 * JSON definitions, an index) from the code, for docs/statecharts.
 */
import { DEFAULT_OUT_DIR, exportStatecharts } from '../statecharts/export.ts';
import { parsedCommand } from './command.ts';
import { ExitCode } from './io.ts';

export const STATECHARTS_USAGE = `Usage: wsmesh statecharts export [--out DIR]

Writes the statecharts of every actor a node runs (node, connection, buffer,
ticker, drainer, broker, peer), generated from the XState definitions in src/actors:
for each, <name>.mmd (a Mermaid stateDiagram-v2) and <name>.json (the machine's
definition, stable key order, functions omitted), plus an index README.md.
Prints the files written. Exit codes: 0 written, 1 could not write, 2 bad usage.

  --out DIR   the folder to write (created if missing; default ${DEFAULT_OUT_DIR})`;

export const statechartsCommand = parsedCommand({
  name: 'statecharts',
  summary: 'export the actors\' statecharts (Mermaid + JSON) to docs/statecharts',
  usage: STATECHARTS_USAGE,
  parse: parseArgs,
  async run(parsed, io) {
    try {
      for (const path of await exportStatecharts(parsed.out)) io.stdout.write(`${path}\n`);
      return ExitCode.OK;
    } catch (error) {
      io.stderr.write(`statecharts: cannot write to ${parsed.out}: ${(error as Error).message}\n`);
      return ExitCode.FAILURE;
    }
  },
});

function parseArgs(args: readonly string[]): { out: string } | string {
  const [action, ...rest] = args;
  if (action !== 'export') return action === undefined ? 'name an action: export' : `unknown action ${JSON.stringify(action)}`;
  let out = DEFAULT_OUT_DIR;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--out') {
      const value = rest[++i];
      if (value === undefined || value === '') return '--out needs a folder';
      out = value;
    } else if (arg.startsWith('--out=')) {
      out = arg.slice('--out='.length);
      if (!out) return '--out needs a folder';
    } else {
      return `unknown argument ${JSON.stringify(arg)}`;
    }
  }
  return { out };
}

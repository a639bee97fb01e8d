/**
 * `wsmesh trace <messageId>`: what became of one message over the cluster, through
 * `GET /api/admin/trace/<id>`: where it was accepted, the publish that carried it,
 * the nodes that received it, the sockets written, and why the user's other sockets
 * did not get it.
 */
import type { ClusterTrace } from '../trace/assemble.ts';
import { CONNECTION_FLAGS, CONNECTION_USAGE, runAdminCommand, type AdminCommandSpec } from './admin-command.ts';
import { usageError } from './cli-error.ts';
import type { Command } from './command.ts';
import type { CliIo } from './io.ts';
import { formatFields, formatTable, plural } from './table.ts';

export const TRACE_USAGE = `Usage: wsmesh trace <messageId> [--json] [--url URL] [--token-file F]

Shows what became of one message, asking every live node of the cluster: where and
when it was accepted, whether it was coalesced with others and into which publish,
the broker publish that carried it (topic, and its name <node>:<n>), the nodes that
received it, the sockets (connection ids) it was written to, and for each socket of
the user that did not get it, why: path-filter, source-token, disabled,
slow-consumer, closing, invalid, no-socket, duplicate, outbox-limit, stale. Nodes
that did not answer in time are named. Each node remembers the last trace.size
messages (and apart from them the last trace.keep pushed with "trace": true).

  --json    print the API's JSON instead, for scripts

${CONNECTION_USAGE}`;

const FLAGS = { '--json': 'switch' } as const;

/** The message id: the one argument that is neither a flag nor a flag's value. */
function positionals(args: readonly string[]): { id: string | undefined; rest: string[]; extra: string[] } {
  const rest: string[] = [];
  const found: string[] = [];
  const spec: Record<string, string> = { ...CONNECTION_FLAGS, ...FLAGS };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('--')) {
      rest.push(arg);
      if (spec[arg] === 'value' && i + 1 < args.length) rest.push(args[++i]);
    } else found.push(arg);
  }
  return { id: found[0], rest, extra: found.slice(1) };
}

function traceSpec(id: string | undefined, extra: string[]): AdminCommandSpec {
  return {
    name: 'trace',
    usage: TRACE_USAGE,
    flags: FLAGS,
    prepare(flags) {
      if (id === undefined) throw usageError('a message id is required');
      if (extra.length) throw usageError(`one message id at a time: ${JSON.stringify(extra[0])} is one too many`);
      return async ({ client, io }) => {
        const body = await client.trace(id);
        io.stdout.write(flags.has('--json') ? `${JSON.stringify(body, null, 2)}\n` : formatTrace(body));
      };
    },
  };
}

export const traceCommand: Command = {
  name: 'trace',
  summary: 'show where a message went and why a socket did not get it, over the cluster (admin API)',
  usage: TRACE_USAGE,
  run: (args: readonly string[], io: CliIo) => {
    const { id, rest, extra } = positionals(args);
    return runAdminCommand(traceSpec(id, extra), rest, io);
  },
};

/** `12:00:01.234` (UTC): the traces of one message span seconds, the date adds nothing. */
function time(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

function list(values: readonly string[]): string {
  return values.length ? values.join(', ') : '-';
}

/** The readable trace: a summary of the way, then the sockets not reached and why. */
export function formatTrace(t: ClusterTrace): string {
  const fields: Array<[string, string]> = [['message', `${t.id}${t.kept ? ' (kept: pushed with "trace": true)' : ''}`]];
  for (const a of t.accepted) {
    const filter = a.pathFilter === null ? 'every path' : `path filter ${a.pathFilter}`;
    fields.push(['accepted', `on ${a.node} at ${time(a.at)}: user ${a.userId} in context ${a.contextId}, ${filter}${a.sourceToken ? `, skipping ${a.sourceToken}` : ''}`]);
  }
  for (const r of t.refused) fields.push(['refused', `on ${r.node} at ${time(r.at)}: a repeat of an accepted id (duplicate), sent nowhere`]);
  for (const q of t.queued) fields.push(['queued', `in the coalescing buffer of ${q.node} at ${time(q.at)}`]);
  if (t.coalesced.length === 0 && t.publishes.length > 0) fields.push(['coalesced', 'no']);
  for (const c of t.coalesced) {
    const how = c.mergedInto ? `an exact copy of ${c.mergedInto}, carried by it` : `with ${plural(c.with, 'other message')}`;
    fields.push(['coalesced', `on ${c.node}: ${how}, in publish ${c.publish ?? '-'}`]);
  }
  for (const p of t.publishes) fields.push(['published', `${p.publish} at ${time(p.at)} to ${p.topic} (${plural(p.messages, 'message')}): ${p.outcome}`]);
  for (const r of t.received) fields.push(['received', `on ${r.node} at ${time(r.at)} from ${r.publish ?? r.from}: ${r.outcome}`]);
  fields.push(['written', list(t.written.map((w) => `${w.node}:${w.connectionId} at ${time(w.at)}`))]);
  fields.push(['nodes', `${list(t.nodes.answered)} answered; holding it: ${list(t.nodes.holding)}`]);
  if (t.nodes.unanswered.length) fields.push(['no answer', `${t.nodes.unanswered.join(', ')}: their part is missing`]);
  for (const f of t.nodes.failed) fields.push(['failed', `${f.node}: ${f.error}`]);
  let out = formatFields(fields);
  if (t.notDelivered.length) {
    const rows = t.notDelivered.map((s) => ({ node: s.node, connection: s.connectionId ?? '-', reason: s.reason, at: time(s.at) }));
    out += `\nnot delivered:\n${formatTable(
      [
        { header: 'NODE', cell: (r: (typeof rows)[number]) => r.node },
        { header: 'CONNECTION', cell: (r) => r.connection },
        { header: 'REASON', cell: (r) => r.reason },
        { header: 'AT', cell: (r) => r.at },
      ],
      rows,
    )}`;
  }
  return out;
}

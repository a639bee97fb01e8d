/** `wsmesh stats`: the node's counters, through `GET /api/admin/stats`. */
import type { NodeStatsBody } from './admin-client.ts';
import { CONNECTION_USAGE, runAdminCommand, type AdminCommandSpec } from './admin-command.ts';
import type { Command } from './command.ts';
import { formatFields, plural } from './table.ts';

export const STATS_USAGE = `Usage: wsmesh stats [--json] [--url URL] [--token-file F]

Prints a summary of the node: its id and route, open sockets (this node, the
cluster), nodes, messages waiting in the coalescing buffer, sessions, handshakes
accepted and rejected (by error code), messages delivered, received and dropped (by
reason), slow consumers closed, and messages exchanged with other nodes. The counters
count from the node's start.

  --json    print the API's JSON instead, for scripts

${CONNECTION_USAGE}`;

const stats: AdminCommandSpec = {
  name: 'stats',
  usage: STATS_USAGE,
  flags: { '--json': 'switch' },
  prepare(flags) {
    return async ({ client, io }) => {
      const body = await client.stats();
      io.stdout.write(flags.has('--json') ? `${JSON.stringify(body, null, 2)}\n` : formatStats(body));
    };
  },
};

export const statsCommand: Command = {
  name: 'stats',
  summary: "show a node's sockets, handshakes and message counters (admin API)",
  usage: STATS_USAGE,
  run: (args, io) => runAdminCommand(stats, args, io),
};

/** The readable summary. Fields an older node does not send print as "-". */
export function formatStats(body: NodeStatsBody): string {
  const { handshakes, messages, remote } = body.counters;
  const rejected = sum(handshakes.rejected);
  const dropped = sum(messages.dropped);
  return formatFields([
    ['node', `${body.node.id} (route ${body.node.route || '-'})`],
    ['sockets', `${body.sockets.local} on this node, ${body.sockets.cluster ?? '-'} in the cluster`],
    ['nodes', String(body.nodes ?? '-')],
    ['buffered', plural(body.bufferedMessages, 'message')],
    ['sessions', String(body.sessions)],
    ['handshakes', `${handshakes.accepted} accepted, ${rejected} rejected${breakdown(handshakes.rejected)}`],
    ['messages', `${messages.delivered} delivered, ${messages.received} received, ${dropped} dropped${breakdown(messages.dropped)}`],
    ['slow consumers', `${body.counters.slowConsumerCloses} closed`],
    ['remote', remote ? `${plural(remote.publishes, 'publish', 'publishes')} to other nodes, ${remote.sent} messages sent, ${remote.received} received` : '-'],
  ]);
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}

/** `: ERR_SESSION_UNKNOWN 3, ERR_ORIGIN_DENIED 1`, largest first; empty when there are none. */
function breakdown(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return '';
  entries.sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return `: ${entries.map(([key, n]) => `${key} ${n}`).join(', ')}`;
}

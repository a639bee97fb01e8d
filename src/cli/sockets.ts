/**
 * `wsmesh sockets list|close`: the open sockets, through `GET` and `DELETE
 * /api/admin/sockets`. A command group: it takes its arguments raw and dispatches on
 * the subcommand itself, so `wsmesh sockets list --help` shows the list's usage.
 */
import type { SocketRow } from './admin-client.ts';
import { CONNECTION_USAGE, runAdminCommand, type AdminCommandSpec } from './admin-command.ts';
import type { Command } from './command.ts';
import { ExitCode, type CliIo } from './io.ts';
import { formatAge, formatTable, plural, type Column } from './table.ts';

const LIST_USAGE = `Usage: wsmesh sockets list [--cluster] [--context N] [--user N] [--json] [--url URL] [--token-file F]

Lists the open sockets of the node (with --cluster: of every node of its cluster) as
a table: context, user, path, connection, node, remote address, connected (how long
ago). --context and --user narrow the list, alone or together.

  --cluster      every node's sockets, not only this node's (scope=cluster)
  --context N    only sockets of context N
  --user N       only sockets of user N
  --json         print the API's JSON array instead of the table, for scripts

${CONNECTION_USAGE}`;

const CLOSE_USAGE = `Usage: wsmesh sockets close --context N --user N [--path FILTER] [--url URL] [--token-file F]

Closes the user's sockets on every node of the cluster, with close code 4403
("closed by an operator": clients should not reconnect at once), and prints how many
were closed.

  --context N      the user's context (required)
  --user N         the user (required)
  --path FILTER    only sockets whose path matches: /ws/demo exactly, /ws/demo/* the
                   path and below, * every socket with a path (default: every socket)

${CONNECTION_USAGE}`;

export const SOCKETS_USAGE = `Usage: wsmesh sockets list [--cluster] [--context N] [--user N] [--json]
       wsmesh sockets close --context N --user N [--path FILTER]

Lists or closes open sockets through the node's admin API. For the flags of each:
wsmesh sockets list --help, wsmesh sockets close --help.`;

const list: AdminCommandSpec = {
  name: 'sockets list',
  usage: LIST_USAGE,
  flags: { '--cluster': 'switch', '--context': 'value', '--user': 'value', '--json': 'switch' },
  prepare(flags) {
    const filter = { contextId: flags.positiveInt('--context'), userId: flags.positiveInt('--user'), cluster: flags.has('--cluster') };
    return async ({ client, io }) => {
      const rows = await client.listSockets(filter);
      if (flags.has('--json')) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else io.stdout.write(formatSockets(rows, Date.now(), { cluster: filter.cluster, filtered: filter.contextId !== undefined || filter.userId !== undefined }));
    };
  },
};

const close: AdminCommandSpec = {
  name: 'sockets close',
  usage: CLOSE_USAGE,
  flags: { '--context': 'value', '--user': 'value', '--path': 'value' },
  prepare(flags) {
    const filter = { contextId: flags.requiredPositiveInt('--context'), userId: flags.requiredPositiveInt('--user'), pathFilter: flags.string('--path') };
    return async ({ client, io }) => {
      const closed = await client.closeSockets(filter);
      const which = filter.pathFilter === undefined ? '' : ` matching ${filter.pathFilter}`;
      io.stdout.write(`closed ${plural(closed, 'socket')} of user ${filter.userId} in context ${filter.contextId}${which}\n`);
    };
  },
};

const SUBCOMMANDS: Readonly<Record<string, AdminCommandSpec>> = { list, close };

export const socketsCommand: Command = {
  name: 'sockets',
  summary: 'list or close open sockets (admin API)',
  usage: SOCKETS_USAGE,
  rawArgs: true,
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === '--help' || name === '-h' || name === 'help') return help(rest[0], io);
    const sub = name === undefined ? undefined : Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (!sub) {
      const what = name === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(name)}`;
      io.stderr.write(`wsmesh sockets: ${what}\n\n${SOCKETS_USAGE}\n`);
      return ExitCode.USAGE;
    }
    if (rest.some((a) => a === '--help' || a === '-h')) {
      io.stdout.write(`${sub.usage}\n`);
      return ExitCode.OK;
    }
    return runAdminCommand(sub, rest, io);
  },
};

function help(topic: string | undefined, io: CliIo): number {
  const sub = topic !== undefined && Object.hasOwn(SUBCOMMANDS, topic) ? SUBCOMMANDS[topic] : undefined;
  io.stdout.write(`${sub?.usage ?? SOCKETS_USAGE}\n`);
  return ExitCode.OK;
}

const COLUMNS: readonly Column<SocketRow & { age: string }>[] = [
  { header: 'CONTEXT', cell: (r) => String(r.contextId), align: 'right' },
  { header: 'USER', cell: (r) => String(r.userId), align: 'right' },
  { header: 'PATH', cell: (r) => r.path || '-' },
  { header: 'CONNECTION', cell: (r) => r.connectionId },
  { header: 'NODE', cell: (r) => r.node },
  { header: 'REMOTE ADDRESS', cell: (r) => r.remoteAddress },
  { header: 'CONNECTED', cell: (r) => r.age },
];

/** The table `sockets list` prints: ordered by context, user, path, then oldest first; a count below. */
export function formatSockets(rows: readonly SocketRow[], now: number, scope: { cluster: boolean; filtered: boolean }): string {
  const where = scope.cluster ? 'in the cluster' : 'on this node';
  if (rows.length === 0) return `no ${scope.filtered ? 'matching ' : ''}sockets ${where}\n`;
  const sorted = [...rows].sort(
    (a, b) => a.contextId - b.contextId || a.userId - b.userId || a.path.localeCompare(b.path) || a.connectedAt - b.connectedAt,
  );
  const table = formatTable(COLUMNS, sorted.map((row) => ({ ...row, age: formatAge(row.connectedAt, now) })));
  return `${table}\n${plural(rows.length, 'socket')} ${where}\n`;
}

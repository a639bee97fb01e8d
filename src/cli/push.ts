/**
 * `wsmesh push`: sends a message to a user's sockets wherever they are, through
 * `POST /api/push`, as a backend would. For trying a client, or an operator's notice.
 */
import { CONNECTION_USAGE, runAdminCommand, type AdminCommandSpec } from './admin-command.ts';
import { usageError } from './cli-error.ts';
import type { Command } from './command.ts';
import type { CliIo } from './io.ts';
import { readAll } from './read-all.ts';
import { plural } from './table.ts';

/** The node refuses bodies over 1 MiB (docs/api.md); a longer stdin is refused before it is all read. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export const PUSH_USAGE = `Usage: wsmesh push --context N --user N --message TEXT [--json] [--path FILTER] [--source CONNECTION_ID] [--url URL] [--token-file F]

Sends a message to the user's sockets on every node, and prints how many sockets of
this node it was written to and how many other nodes it was queued for.

  --context N               the user's context (required)
  --user N                  the user (required)
  --message TEXT            the message (required); - reads it from stdin (one final
                            newline is dropped)
  --json                    send the message as a JSON value (an object or array
                            arrives as its JSON text), not as a string
  --path FILTER             only sockets whose path matches: /ws/demo exactly,
                            /ws/demo/* the path and below, * every socket with a path
  --source CONNECTION_ID    skip this connection (the sender's own socket)

${CONNECTION_USAGE}`;

const push: AdminCommandSpec = {
  name: 'push',
  usage: PUSH_USAGE,
  flags: { '--context': 'value', '--user': 'value', '--message': 'value', '--json': 'switch', '--path': 'value', '--source': 'value' },
  prepare(flags, io) {
    const contextId = flags.requiredPositiveInt('--context');
    const userId = flags.requiredPositiveInt('--user');
    const text = flags.requiredString('--message');
    const json = flags.has('--json');
    return async ({ client }) => {
      const message = parseMessage(text === '-' ? await readMessage(io) : text, json);
      const result = await client.push({ contextId, userId, message, pathFilter: flags.string('--path'), sourceToken: flags.string('--source') });
      io.stdout.write(`written to ${plural(result.local, 'local socket')}, queued for ${plural(result.remote, 'other node')}\n`);
    };
  },
};

export const pushCommand: Command = {
  name: 'push',
  summary: "push a message to a user's sockets (admin API)",
  usage: PUSH_USAGE,
  run: (args, io) => runAdminCommand(push, args, io),
};

async function readMessage(io: CliIo): Promise<string> {
  if (io.stdin.isTTY) io.stderr.write('Type the message, then Ctrl-D on a new line:\n');
  const text = await readAll(io.stdin, MAX_MESSAGE_BYTES);
  if (text === undefined) throw usageError(`the message on stdin is over ${MAX_MESSAGE_BYTES} bytes, more than a node accepts`);
  // What `echo` and editors add; a message that ends with a newline can be given as JSON.
  const message = text.replace(/\r?\n$/, '');
  if (message === '') throw usageError('the message on stdin is empty');
  return message;
}

function parseMessage(text: string, json: boolean): unknown {
  if (!json) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`--json: the message is not valid JSON (${(err as Error).message})`);
  }
}

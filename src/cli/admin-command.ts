/**
 * What the admin commands (sockets, stats, push) share: the connection flags, where
 * the URL and the token come from, and turning failures into messages and exit codes.
 *
 * The token is never a flag: arguments land in shell history and in `ps` output.
 * It comes from WSMESH_ADMIN_TOKEN (the variable a node reads its admin.token from)
 * or from a file (`--token-file F`).
 */
import { readFileSync } from 'node:fs';
import { AdminClient, DEFAULTS, type AdminTarget } from './admin-client.ts';
import { CliError, usageError } from './cli-error.ts';
import { parseFlags, type FlagSpec, type ParsedFlags } from './flags.ts';
import { ExitCode, type CliIo } from './io.ts';

/** The flags every admin command accepts. */
export const CONNECTION_FLAGS: FlagSpec = { '--url': 'value', '--token-file': 'value' };

/** The usage lines for `CONNECTION_FLAGS`, and the exit codes, appended to each admin command's usage. */
export const CONNECTION_USAGE = `Connection:
  --url URL          the node's base URL (default: $WSMESH_URL, else ${DEFAULTS.url})
  --token-file F     read the admin token from file F (default: $WSMESH_ADMIN_TOKEN);
                     there is no --token flag, so the token stays out of shell history and ps

Exit codes: 0 done, 1 the node refused or failed (HTTP error), 2 usage error or no
token, 3 no node answers at the URL.`;

const NO_TOKEN = "no admin token: set WSMESH_ADMIN_TOKEN to the node's admin.token (or use --token-file F)";

/** What a command body gets. */
export interface AdminContext {
  readonly flags: ParsedFlags;
  readonly client: AdminClient;
  readonly io: CliIo;
}

export interface AdminCommandSpec {
  /** As printed before messages: `sockets list`. */
  readonly name: string;
  readonly usage: string;
  /** The command's own flags; `CONNECTION_FLAGS` are added. */
  readonly flags: FlagSpec;
  /**
   * Checks the flags (throwing usage errors) before anything is sent, and returns the
   * work to do with the client: a token is required only once the flags are right.
   */
  prepare(flags: ParsedFlags, io: CliIo): (context: AdminContext) => Promise<void>;
}

/** Parses, resolves the node and the token, runs; resolves to the exit code. */
export async function runAdminCommand(spec: AdminCommandSpec, args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    refuseTokenFlag(args);
    const flags = parseFlags(args, { ...CONNECTION_FLAGS, ...spec.flags });
    const work = spec.prepare(flags, io);
    const client = new AdminClient(resolveTarget(flags, env));
    await work({ flags, client, io });
    return ExitCode.OK;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr.write(`wsmesh ${spec.name}: ${err.message}\n${err.showUsage ? `\n${synopsis(spec.usage)}\nwsmesh ${spec.name} --help shows every flag.\n` : ''}`);
    return err.exitCode;
  }
}

/** The "Usage:" lines of a usage text, up to the first blank line, each ending with a newline. */
export function synopsis(usage: string): string {
  return `${usage.split('\n\n')[0]}\n`;
}

/** A `--token` flag gets the reason it does not exist, not just "unknown flag". */
function refuseTokenFlag(args: readonly string[]): void {
  if (args.some((arg) => arg === '--token' || arg.startsWith('--token='))) {
    throw usageError('there is no --token flag, so the token stays out of shell history and ps: set WSMESH_ADMIN_TOKEN or use --token-file F');
  }
}

/** The node's URL and the admin token, from the flags, then the environment, then the default URL. */
export function resolveTarget(flags: ParsedFlags, env: NodeJS.ProcessEnv): AdminTarget {
  return { url: resolveUrl(flags, env), token: resolveToken(flags, env) };
}

function resolveUrl(flags: ParsedFlags, env: NodeJS.ProcessEnv): string {
  const fromFlag = flags.string('--url');
  const source = fromFlag !== undefined ? '--url' : env.WSMESH_URL ? 'WSMESH_URL' : 'the default URL';
  const raw = fromFlag ?? (env.WSMESH_URL || DEFAULTS.url);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw usageError(`${source} must be the node's http:// or https:// base URL, like ${DEFAULTS.url}: ${JSON.stringify(raw)}`);
  }
  return url.href.replace(/\/+$/, '');
}

function resolveToken(flags: ParsedFlags, env: NodeJS.ProcessEnv): string {
  const file = flags.string('--token-file');
  if (file === undefined) {
    const token = env.WSMESH_ADMIN_TOKEN?.trim();
    if (!token) throw new CliError(NO_TOKEN, ExitCode.USAGE);
    return token;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.USAGE);
  }
  // The file holds the token, maybe with the newline an editor or `echo` adds.
  const token = text.trim();
  if (!token) throw new CliError(`the token file ${file} is empty: write the node's admin.token in it`, ExitCode.USAGE);
  if (/\s/.test(token)) throw new CliError(`the token file ${file} holds more than one word: write only the node's admin.token in it`, ExitCode.USAGE);
  return token;
}

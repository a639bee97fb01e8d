/**
 * `wsmesh broker acl`: the broker's own account files, generated from the broker
 * accounts file, so Mosquitto or NATS enforces what grants.ts says each account may
 * do (instead of an ACL or an accounts.conf edited by hand, which drift from it).
 *
 * Reads everything and generates in memory first: when an input is wrong, nothing
 * is written. Never prints a password, nor a line of the passwords file.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KEYS, validateValue } from '../config/schema.ts';
import { AccountsError, parseAccounts, type Accounts } from '../mqtt/accounts.ts';
import { checkClearPasswords, ClearPasswordsError, parseClearPasswords } from '../mqtt/clear-passwords.ts';
import { generateMosquittoFiles } from '../mqtt/mosquitto-acl.ts';
import { generateNatsAuthorization } from '../mqtt/nats-authorization.ts';
import { synopsis } from './admin-command.ts';
import { CliError, usageError } from './cli-error.ts';
import { parseFlags } from './flags.ts';
import { ExitCode, type CliIo } from './io.ts';
import { replaceFiles, type FileToWrite } from './replace-files.ts';

const NAME = 'broker acl';
const DEFAULT_CLUSTER_NAME = String(KEYS.get('cluster.name')?.entry.default ?? 'wsmesh');
/** The names mosquitto.conf's password_file and acl_file give them (config/mosquitto/README.md). */
export const MOSQUITTO_PASSWORD_FILE = 'wsmesh.passwd';
export const MOSQUITTO_ACL_FILE = 'wsmesh.acl';

export const BROKER_ACL_USAGE = `Usage: wsmesh broker acl --accounts FILE (--mosquitto DIR | --nats FILE) --passwords FILE [--cluster-name NAME]

Writes the broker's own account files from the broker accounts file, each
account's rights derived from its kind (node, device, backend), so the broker
enforces what wsmesh grants. It replaces hand-editing
config/mosquitto/wsmesh.acl.example or config/nats/accounts.conf.

  --accounts FILE      the broker accounts file (mqtt.accountsFile: JSON, scrypt hashes)
  --passwords FILE     one "id:password" line per account, the password in clear:
                       brokers need hashes of their own, which cannot be made from
                       scrypt ones. Each is checked against the account's hash.
                       Keep the file private, or delete it once the files are written.
  --mosquitto DIR      write DIR/${MOSQUITTO_PASSWORD_FILE} (password_file, mode 0600) and
                       DIR/${MOSQUITTO_ACL_FILE} (acl_file); then reload mosquitto
  --nats FILE          write FILE (mode 0600): the accounts block every nats-N.conf
                       includes, passwords as bcrypt hashes; then reload each server
  --cluster-name NAME  cluster.name, the first level of every topic (default ${DEFAULT_CLUSTER_NAME})

A file that is replaced keeps its owner, group and mode; it is written aside and
renamed over the old one. Nothing is written when an input is wrong.
Exit codes: 0 written, 1 a file could not be written, 2 wrong usage or input.`;

const FLAGS = { '--accounts': 'value', '--passwords': 'value', '--mosquitto': 'value', '--nats': 'value', '--cluster-name': 'value' } as const;

type Target = { kind: 'mosquitto'; dir: string } | { kind: 'nats'; file: string };

interface Request {
  accountsFile: string;
  passwordsFile: string;
  target: Target;
  root: string;
}

/** Runs `wsmesh broker acl` with the arguments after `acl`; resolves to the exit code. */
export async function runBrokerAcl(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${BROKER_ACL_USAGE}\n`);
    return ExitCode.OK;
  }
  try {
    const request = parseRequest(args);
    const accounts = readAccounts(request.accountsFile);
    const passwords = await readPasswords(request.passwordsFile, accounts);
    if (![...accounts.byId.values()].some((account) => account.kind === 'node')) {
      io.stderr.write(`wsmesh ${NAME}: warning: ${accounts.source} has no node account, so no node can connect to a broker using these files; add one {"kind": "node"} account per node (its cluster.username)\n`);
    }
    const files = await generate(request, accounts, passwords);
    write(files);
    io.stdout.write(`${done(request, accounts, files)}\n`);
    return ExitCode.OK;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr.write(`wsmesh ${NAME}: ${err.message}\n${err.showUsage ? `\n${synopsis(BROKER_ACL_USAGE)}wsmesh ${NAME} --help shows every flag.\n` : ''}`);
    return err.exitCode;
  }
}

function parseRequest(args: readonly string[]): Request {
  const flags = parseFlags(args, FLAGS);
  const accountsFile = flags.requiredString('--accounts');
  const passwordsFile = flags.requiredString('--passwords');
  const mosquitto = flags.string('--mosquitto');
  const nats = flags.string('--nats');
  if ((mosquitto === undefined) === (nats === undefined)) throw usageError('give one broker to write for: --mosquitto DIR or --nats FILE');
  const root = flags.string('--cluster-name') ?? DEFAULT_CLUSTER_NAME;
  try {
    validateValue('cluster.name', root);
  } catch (err) {
    throw usageError(`--cluster-name ${(err as Error).message}: ${JSON.stringify(root)}`);
  }
  if (mosquitto !== undefined) {
    if (!isDirectory(mosquitto)) throw usageError(`--mosquitto ${JSON.stringify(mosquitto)} is not a directory; create it, or name the one mosquitto.conf's password_file and acl_file are in`);
    return { accountsFile, passwordsFile, root, target: { kind: 'mosquitto', dir: mosquitto } };
  }
  if (isDirectory(nats!)) throw usageError(`--nats ${JSON.stringify(nats)} is a directory; name the file to write, e.g. ${join(nats!, 'accounts.conf')}`);
  if (!isDirectory(dirname(nats!))) throw usageError(`--nats ${JSON.stringify(nats)}: the directory ${dirname(nats!)} does not exist; create it first`);
  return { accountsFile, passwordsFile, root, target: { kind: 'nats', file: nats! } };
}

function readAccounts(file: string): Accounts {
  try {
    return parseAccounts(readInput(file, '--accounts', 'the broker accounts file'), file);
  } catch (err) {
    if (err instanceof AccountsError) throw new CliError(err.message, ExitCode.USAGE);
    throw err;
  }
}

async function readPasswords(file: string, accounts: Accounts): Promise<Map<string, string>> {
  try {
    return await checkClearPasswords(accounts, parseClearPasswords(readInput(file, '--passwords', 'a file of "id:password" lines'), file), file);
  } catch (err) {
    if (err instanceof ClearPasswordsError) {
      const { problems } = err;
      throw new CliError(problems.length === 1 ? problems[0] : `${problems.length} problems with the passwords:\n  ${problems.join('\n  ')}`, ExitCode.USAGE);
    }
    throw err;
  }
}

function readInput(file: string, flag: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${flag} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); give ${what}`, ExitCode.USAGE);
  }
}

async function generate(request: Request, accounts: Accounts, passwords: ReadonlyMap<string, string>): Promise<FileToWrite[]> {
  try {
    if (request.target.kind === 'nats') {
      return [{ path: request.target.file, text: await generateNatsAuthorization(accounts, request.root, passwords), mode: 0o600 }];
    }
    const { passwordFile, aclFile } = generateMosquittoFiles(accounts, request.root, passwords);
    return [
      { path: join(request.target.dir, MOSQUITTO_PASSWORD_FILE), text: passwordFile, mode: 0o600 },
      { path: join(request.target.dir, MOSQUITTO_ACL_FILE), text: aclFile, mode: 0o644 },
    ];
  } catch (err) {
    // A password a broker cannot take (e.g. over bcrypt's 72 bytes): the message names the account.
    throw new CliError(`${(err as Error).message}; change it in ${request.passwordsFile} and store its new hash in ${accounts.source}`, ExitCode.USAGE);
  }
}

function write(files: readonly FileToWrite[]): void {
  try {
    replaceFiles(files);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CliError(`could not write ${files.map((f) => f.path).join(' and ')}: ${reason}; check that this user may write there`, ExitCode.FAILURE);
  }
}

function done(request: Request, accounts: Accounts, files: readonly FileToWrite[]): string {
  const count = `${accounts.byId.size} account${accounts.byId.size === 1 ? '' : 's'}`;
  const cluster = `the cluster ${JSON.stringify(request.root)}`;
  if (request.target.kind === 'nats') {
    return `wrote ${files[0].path} (${count}, ${cluster}): include it from every server's config, copy it to every server, then reload each (SIGHUP)`;
  }
  return `wrote ${files[0].path} and ${files[1].path} (${count}, ${cluster}): make them readable by mosquitto (config/mosquitto/README.md), then reload it (systemctl reload mosquitto)`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

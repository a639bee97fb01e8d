/**
 * The broker accounts file (`mqtt.accountsFile`): who may connect to the broker
 * besides the nodes' own pair, and as what. Pure: text in, `Accounts` out, or an
 * `AccountsError` naming the first problem, its JSON location and what to fix.
 *
 *   {"accounts": [
 *     {"id": "thermo-17", "kind": "device", "password": "<scrypt hash>", "context": 1, "users": [3, 4]},
 *     {"id": "mail-backend", "kind": "backend", "password": "<scrypt hash>"},
 *     {"id": "node-2", "kind": "node", "password": "<scrypt hash>"}
 *   ]}
 *
 * An account's `id` is its MQTT user name. What each kind may publish and subscribe
 * is grants.ts; the file only says who is which kind, and a device's users.
 */
import { isPasswordHash } from '../directory/password.ts';
import { findJsonSyntaxError } from '../json/syntax-error.ts';

export type AccountKind = 'node' | 'device' | 'backend';

export const ACCOUNT_KINDS: readonly AccountKind[] = ['node', 'device', 'backend'];

export interface Account {
  id: string;
  kind: AccountKind;
  /** scrypt hash (`wsmesh hash-password`), never a clear password. */
  password: string;
  /** A device's context; absent for other kinds. */
  context?: number;
  /** A device's users in its context, or `*` for every user of it. */
  users?: number[] | '*';
}

export interface Accounts {
  /** The file (or other source) read, for messages. */
  source: string;
  byId: ReadonlyMap<string, Account>;
}

export const NO_ACCOUNTS: Accounts = { source: '(none)', byId: new Map() };

/** An accounts file that cannot be used. Never carries a password or hash in its message. */
export class AccountsError extends Error {
  readonly source: string;
  readonly location: string;

  constructor(source: string, location: string, problem: string, options?: { cause?: unknown }) {
    super(location ? `${source}: ${location}: ${problem}` : `${source}: ${problem}`, options);
    this.name = 'AccountsError';
    this.source = source;
    this.location = location;
  }
}

/** An account id is an MQTT user name and a Mosquitto ACL / NATS config token: keep it plain. */
const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const DB_ID = /^[1-9][0-9]{0,15}$/;
const KEYS: Record<AccountKind, readonly string[]> = {
  node: ['id', 'kind', 'password'],
  backend: ['id', 'kind', 'password'],
  device: ['id', 'kind', 'password', 'context', 'users'],
};
const HASH_HINT = 'store the output of "wsmesh hash-password", never a clear password';

export function parseAccounts(text: string, source: string): Accounts {
  let json: unknown;
  // Some editors save a byte order mark, which JSON.parse refuses.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    json = JSON.parse(body);
  } catch {
    // Not JSON.parse's message, nor the error as `cause`: V8 quotes the text around an
    // unexpected token (`..."password": hunter2"...`), which here can be a clear password.
    const where = findJsonSyntaxError(body);
    if (!where) throw new AccountsError(source, '', 'is not valid JSON');
    throw new AccountsError(source, `line ${where.line}, column ${where.column}`, `is not valid JSON: ${where.problem}`);
  }
  const fail = (location: string, problem: string): never => {
    throw new AccountsError(source, location, problem);
  };
  if (!isObject(json) || !Array.isArray(json.accounts)) fail('', 'must be a JSON object {"accounts": [...]}');
  const root = json as { accounts: unknown[] };
  for (const key of Object.keys(root)) if (key !== 'accounts') fail(key, 'unknown key; the file holds only "accounts"');
  const byId = new Map<string, Account>();
  root.accounts.forEach((value, i) => {
    const loc = `accounts[${i}]`;
    if (!isObject(value)) fail(loc, 'an account must be an object like {"id": "thermo-17", "kind": "device", ...}');
    const o = value as Record<string, unknown>;
    if (typeof o.id !== 'string' || !ID.test(o.id)) fail(`${loc}.id`, `must match ${ID} (it is the MQTT user name)`);
    if (!ACCOUNT_KINDS.includes(o.kind as AccountKind)) fail(`${loc}.kind`, `must be one of ${ACCOUNT_KINDS.join(', ')}`);
    const kind = o.kind as AccountKind;
    for (const key of Object.keys(o)) if (!KEYS[kind].includes(key)) fail(`${loc}.${key}`, `unknown key for a ${kind} account; allowed: ${KEYS[kind].join(', ')}`);
    if (!isPasswordHash(o.password)) fail(`${loc}.password`, `is not a password hash; ${HASH_HINT}`);
    const account: Account = { id: o.id as string, kind, password: o.password as string };
    if (kind === 'device') {
      if (!isDbId(o.context)) fail(`${loc}.context`, 'a device needs its context id, a positive integer, at most 9007199254740991');
      account.context = o.context as number;
      account.users = deviceUsers(o.users, `${loc}.users`, fail);
    }
    if (byId.has(account.id)) fail(`${loc}.id`, `the id ${JSON.stringify(account.id)} is used twice; give each account its own`);
    byId.set(account.id, account);
  });
  return { source, byId };
}

function deviceUsers(value: unknown, loc: string, fail: (location: string, problem: string) => never): number[] | '*' {
  if (value === '*') return '*';
  if (!Array.isArray(value) || value.length === 0) return fail(loc, 'a device needs "users": a non-empty list of user ids of its context, or "*" for all of them');
  value.forEach((u, j) => {
    if (!isDbId(u)) fail(`${loc}[${j}]`, 'a user id is a positive integer, at most 9007199254740991');
  });
  return [...new Set(value as number[])];
}

/**
 * A positive integer JSON.parse read exactly. 16 digits reach past 2^53, where JSON.parse
 * rounds (9007199254740993 reads as ...992) and a device would be granted another id
 * than the one written; the ingress topic refuses those ids too (ingress-topic.ts).
 */
function isDbId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && DB_ID.test(String(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The NATS accounts fragment for the broker accounts (pure but for the bcrypt
 * salts): an `accounts { WSMESH: ... }` block, to `include` from every server's
 * config like config/nats/accounts.conf, with one user per account whose
 * permissions are grantsOf (grants.ts) written as NATS subjects.
 *
 * How NATS's MQTT support maps a topic to a subject: `/` -> `.`, `+` -> `*`,
 * `#` -> `>`. MQTT's `#` also matches its parent level and NATS's `>` does not, so
 * NATS subscribes an MQTT `a/b/#` as both `a.b` and `a.b.>`, and a publish to
 * `a/b` is the subject `a.b`: a grant `a/b/#` is both subjects here.
 *
 * What nats-server 2.9.10 does besides (checked in spec/mqtt/acl-matrix.spec.ts):
 * - a QoS 1 subscription is a JetStream consumer delivering to `$MQTT.sub.<id>`,
 *   and the server checks that subject against the user's subscribe permissions:
 *   an account that may subscribe also gets `$MQTT.sub.>`. (An MQTT client cannot
 *   subscribe to `$MQTT/sub/#` itself: the server refuses `$MQTT` topics.)
 * - an empty allow list allows everything, so an account that may subscribe
 *   (or publish) to nothing is denied `>` instead.
 */
import { accountLabel } from './account-label.ts';
import type { Account, Accounts } from './accounts.ts';
import { grantsOf } from './grants.ts';
import { natsPasswordHash } from './nats-password.ts';

/** The NATS account every wsmesh user is in (JetStream on: MQTT sessions and QoS 1 live there). */
export const NATS_ACCOUNT = 'WSMESH';
/** Where NATS delivers QoS 1 subscriptions (its JetStream consumers' delivery subjects). */
export const NATS_MQTT_DELIVERY = '$MQTT.sub.>';

export interface NatsAuthorizationOptions {
  /** Hashes a password; default bcrypt at cost 11 (tests give a cheaper one). */
  hash?: (password: string) => Promise<string>;
}

export interface NatsPermissions {
  publish: { allow: string[] } | { deny: string[] };
  subscribe: { allow: string[] } | { deny: string[] };
}

/** A level NATS maps to a subject token unchanged (`.`, spaces and empty levels it maps otherwise). */
const PLAIN_LEVEL = /^[A-Za-z0-9_-]+$/;

/**
 * The fragment for `accounts` under the cluster's `root`. `passwords` holds each
 * account's clear password (checked against its scrypt hash by the caller); an
 * account without one, or with one bcrypt cannot take, throws naming it.
 */
export async function generateNatsAuthorization(accounts: Accounts, root: string, passwords: ReadonlyMap<string, string>, options: NatsAuthorizationOptions = {}): Promise<string> {
  const hash = options.hash ?? ((password: string) => natsPasswordHash(password));
  const users: string[] = [];
  for (const account of accounts.byId.values()) {
    const password = passwords.get(account.id);
    if (password === undefined) throw new Error(`no password for the account ${JSON.stringify(account.id)}`);
    let hashed: string;
    try {
      hashed = await hash(password);
    } catch (err) {
      throw new Error(`the password of the account ${JSON.stringify(account.id)}: ${(err as Error).message}`, { cause: err });
    }
    users.push(userBlock(account, hashed, natsPermissions(account, root)));
  }
  return [...header(accounts, root), 'accounts {', `  ${NATS_ACCOUNT}: {`, '    jetstream: enabled', '    users: [', ...users, '    ]', '  }', '}', ''].join('\n');
}

/** An account's grants as NATS permissions. */
export function natsPermissions(account: Pick<Account, 'kind' | 'context' | 'users'>, root: string): NatsPermissions {
  const grants = grantsOf(account, root);
  const publish = unique(grants.publish.flatMap(natsSubjects));
  const subscribe = unique(grants.subscribe.flatMap(natsSubjects));
  if (subscribe.length > 0) subscribe.push(NATS_MQTT_DELIVERY);
  return { publish: allowOrDenyAll(publish), subscribe: allowOrDenyAll(subscribe) };
}

/** The NATS subjects an MQTT topic filter covers; throws for a filter NATS would map otherwise. */
export function natsSubjects(filter: string): string[] {
  const levels = filter.split('/');
  levels.forEach((level, i) => {
    const wildcard = level === '+' || (level === '#' && i === levels.length - 1);
    if (!wildcard && !PLAIN_LEVEL.test(level)) {
      throw new Error(`the topic filter ${JSON.stringify(filter)} has a level (${JSON.stringify(level)}) that NATS would not map to one subject token; use letters, digits, '_' and '-'`);
    }
  });
  const subject = (parts: string[]) => parts.map((level) => (level === '+' ? '*' : level)).join('.');
  if (levels[levels.length - 1] !== '#') return [subject(levels)];
  const parent = levels.slice(0, -1);
  return parent.length === 0 ? ['>'] : [subject(parent), `${subject(parent)}.>`];
}

function allowOrDenyAll(subjects: string[]): { allow: string[] } | { deny: string[] } {
  return subjects.length > 0 ? { allow: subjects } : { deny: ['>'] };
}

function userBlock(account: Account, hashed: string, permissions: NatsPermissions): string {
  const list = (rule: NatsPermissions['publish']) => ('allow' in rule ? `{ allow: ${strings(rule.allow)} }` : `{ deny: ${strings(rule.deny)} }`);
  return [
    `      # ${accountLabel(account)}`,
    '      {',
    `        user: ${JSON.stringify(account.id)}`,
    // Quoted: an unquoted value starting with "$" is a variable reference in a NATS config.
    `        password: ${JSON.stringify(hashed)}`,
    '        allowed_connection_types: ["MQTT"]',
    '        permissions: {',
    `          publish: ${list(permissions.publish)}`,
    `          subscribe: ${list(permissions.subscribe)}`,
    '        }',
    '      }',
  ].join('\n');
}

function header(accounts: Accounts, root: string): string[] {
  return [
    `# NATS accounts of the wsmesh cluster ${JSON.stringify(root)}: include this file from every server's config.`,
    `# GENERATED by "wsmesh broker acl" from ${JSON.stringify(accounts.source)}: do not edit.`,
    '# Change the accounts file, generate again, copy it to every server, then reload each (SIGHUP).',
    '#',
    '# The permissions are the MQTT filters of src/mqtt/grants.ts as NATS subjects: "/" -> ".",',
    '# "+" -> "*", "#" -> ">", and "a/b/#" is both "a.b" and "a.b.>" ("#" also matches its',
    '# parent level, ">" does not). "$MQTT.sub.>" is where NATS delivers QoS 1 subscriptions,',
    '# checked against the subscribe permissions. An empty allow list would allow everything,',
    '# so an account that may subscribe to nothing is denied ">". Passwords are bcrypt hashes.',
    '',
  ];
}

function strings(values: string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(', ')}]`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

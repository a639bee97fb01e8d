/**
 * What each kind of broker account may publish and subscribe, as MQTT topic filters
 * under the cluster's root. The one source of truth: the embedded broker enforces it
 * (embedded-broker.ts), and the Mosquitto ACL and the NATS authorization block are
 * generated from it (mosquitto-acl.ts, nats-authorization.ts).
 *
 *   | kind    | publish                          | subscribe               |
 *   | node    | internal/#, egress/#             | internal/#, ingress/#   |
 *   | device  | ingress/<context>/<user>/# each  | nothing                 |
 *   | backend | ingress/#                        | egress/#                |
 *
 * A `#` also matches its parent level (MQTT 3.1.1 section 4.7.1.2), so
 * `ingress/1/3/#` covers `ingress/1/3` itself.
 */
import type { Account, AccountKind } from './accounts.ts';

export interface Grants {
  publish: string[];
  subscribe: string[];
}

/** A node's own pair (cluster.username) has no entry in the file but the same rights as a node account. */
export function grantsOf(account: Pick<Account, 'kind' | 'context' | 'users'>, root: string): Grants {
  return GRANTS[account.kind](account, root);
}

const GRANTS: Record<AccountKind, (account: Pick<Account, 'context' | 'users'>, root: string) => Grants> = {
  node: (_, root) => ({ publish: [`${root}/internal/#`, `${root}/egress/#`], subscribe: [`${root}/internal/#`, `${root}/ingress/#`] }),
  backend: (_, root) => ({ publish: [`${root}/ingress/#`], subscribe: [`${root}/egress/#`] }),
  device: ({ context, users }, root) => ({
    publish: users === '*' ? [`${root}/ingress/${context}/#`] : (users ?? []).map((user) => `${root}/ingress/${context}/${user}/#`),
    subscribe: [],
  }),
};

/** Whether `topic` (no wildcards) matches `filter`, by MQTT's rules. */
export function topicMatches(filter: string, topic: string): boolean {
  // `$`-topics are never matched by a filter starting with a wildcard (section 4.7.2).
  if (topic.startsWith('$') && (filter.startsWith('#') || filter.startsWith('+'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether every topic `filter` can match is matched by `grant`: a subscription is
 * allowed only inside a grant (`a/#` inside `a/#`, `a/b/+` inside `a/#`, not `#`
 * inside `a/#`).
 */
export function filterWithin(grant: string, filter: string): boolean {
  // A shared subscription receives the topics of its inner filter, not of
  // `$share/<group>/...` read literally; refused rather than misjudged.
  if (filter.startsWith('$share/')) return false;
  // The rule of topicMatches: a grant that starts with a wildcard covers no `$`-topic,
  // so it must not cover a `$` filter either (`$SYS/#` is not within `#`).
  if (filter.startsWith('$') && (grant.startsWith('#') || grant.startsWith('+'))) return false;
  const g = grant.split('/');
  const f = filter.split('/');
  for (let i = 0; i < g.length; i++) {
    if (g[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false;
    if (g[i] === '+') continue;
    if (f[i] === '+' || f[i] !== g[i]) return false;
  }
  return g.length === f.length;
}

export function mayPublish(grants: Grants, topic: string): boolean {
  return grants.publish.some((filter) => topicMatches(filter, topic));
}

export function maySubscribe(grants: Grants, filter: string): boolean {
  return grants.subscribe.some((grant) => filterWithin(grant, filter));
}

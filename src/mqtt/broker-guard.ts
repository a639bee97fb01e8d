/**
 * Who may do what on the embedded broker: authentication of the nodes' pair and of
 * the accounts file's accounts, their grants (grants.ts) on every PUBLISH and
 * SUBSCRIBE, and the ingress checks (ingress-check.ts) at the door, where the
 * publishing account is known and can be named in the log. No I/O but the password
 * check; embedded-broker.ts wires it into aedes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { verifyPassword } from '../directory/password.ts';
import type { Account, AccountKind, Accounts } from './accounts.ts';
import { grantsOf, mayPublish, maySubscribe, type Grants } from './grants.ts';
import { checkIngress, type IngressDropReason, type IngressRules } from './ingress-check.ts';

/** What an authenticated client may do. `grants` undefined: everything (an anonymous test broker, or the nodes' pair of a broker that carries any cluster). */
export interface ClientRights {
  /** The account id, `anonymous`, or the nodes' user name. */
  account: string;
  kind: AccountKind | 'anonymous';
  grants?: Grants;
  /** The file's record it was authenticated with: a reload that changes it ends the client's connection. */
  record?: Account;
}

export type Refusal = 'connect' | 'publish' | 'subscribe';

export interface BrokerGuardOptions {
  /** `cluster.name`: the root of the accounts' grants. */
  root: string;
  allowAnonymous: boolean;
  /** The nodes' own pair (cluster.username / cluster.password). */
  nodePair?: { username: string; password: string };
  /** Whether the nodes' pair is held to a node's grants (a node's own broker) or may do anything (`wsmesh broker`, which may carry several clusters). */
  restrictNodePair: boolean;
  accounts(): Accounts;
  /** The ingress checks at the door; absent: left to the nodes (`wsmesh broker` has no directory). */
  ingress?(): IngressRules;
  refused(action: Refusal, details: { account?: string; clientId: string; topic?: string; reason: string }): void;
  ingressDropped(reason: IngressDropReason, details: { account: string; topic: string; bytes: number }): void;
}

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

export class BrokerGuard {
  private readonly nodePair?: { username: string; password: Buffer };
  private readonly ingressPrefix: string;

  constructor(private readonly options: BrokerGuardOptions) {
    if (options.nodePair) this.nodePair = { username: options.nodePair.username, password: digest(options.nodePair.password) };
    this.ingressPrefix = `${options.root}/ingress/`;
  }

  /** The client's rights, or undefined when it is refused. */
  async authenticate(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<ClientRights | undefined> {
    const { options } = this;
    if (username === undefined && password === undefined) {
      if (options.allowAnonymous) return { account: 'anonymous', kind: 'anonymous' };
      return this.refuse('connect', { clientId, reason: 'anonymous' });
    }
    if (username !== undefined && password !== undefined && this.nodePair && username === this.nodePair.username && timingSafeEqual(digest(password), this.nodePair.password)) {
      return { account: username, kind: 'node', grants: options.restrictNodePair ? grantsOf({ kind: 'node' }, options.root) : undefined };
    }
    const record = username === undefined ? undefined : options.accounts().byId.get(username);
    if (record && password !== undefined && (await verifyPassword(password.toString('utf8'), record.password))) {
      return { account: record.id, kind: record.kind, grants: grantsOf(record, options.root), record };
    }
    return this.refuse('connect', { clientId, account: username, reason: 'credentials' });
  }

  /** Whether the client's connection still stands after the accounts file changed. */
  stillValid(rights: ClientRights): boolean {
    if (!rights.record) return true;
    const now = this.options.accounts().byId.get(rights.record.id);
    return now !== undefined && JSON.stringify(now) === JSON.stringify(rights.record);
  }

  mayPublish(rights: ClientRights, clientId: string, topic: string): boolean {
    if (!rights.grants || mayPublish(rights.grants, topic)) return true;
    this.refuse('publish', { clientId, account: rights.account, topic, reason: `a ${rights.kind} account may not publish here` });
    return false;
  }

  maySubscribe(rights: ClientRights, clientId: string, filter: string): boolean {
    if (!rights.grants || maySubscribe(rights.grants, filter)) return true;
    this.refuse('subscribe', { clientId, account: rights.account, topic: filter, reason: `a ${rights.kind} account may not subscribe here` });
    return false;
  }

  /** Whether an ingress publish goes on to the nodes; a drop is counted and logged with the account. */
  admitsIngress(rights: ClientRights, topic: string, payload: Buffer): boolean {
    const rules = this.options.ingress?.();
    if (!rules || !topic.startsWith(this.ingressPrefix)) return true;
    const verdict = checkIngress(topic, payload, rules);
    if (verdict.ok) return true;
    this.options.ingressDropped(verdict.reason, { account: rights.account, topic, bytes: payload.length });
    return false;
  }

  private refuse(action: Refusal, details: { account?: string; clientId: string; topic?: string; reason: string }): undefined {
    this.options.refused(action, details);
    return undefined;
  }
}

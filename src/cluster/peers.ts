/**
 * One `peer` actor (peer.machine.ts) per other node this node has heard of: the
 * online / suspect / offline verdict on injected timers, visible in the inspector.
 * Presence messages feed it; its verdict is applied to the cluster view.
 *
 * Presences can arrive out of order: a clustered broker (NATS) sends a new
 * subscription the retained copy its server holds, which may be older than what
 * arrived live a moment before; a Will queued at the broker may come after the
 * process's next online. So a presence older than the last one heard (see
 * `isNewerPresence`) is ignored.
 */
import { createActor, type ActorOptions, type AnyActor, type AnyActorLogic } from 'xstate';
import { peerMachine } from '../actors/peer.machine.ts';
import type { Timers } from '../time/timers.ts';
import type { PresencePayload } from './codec.ts';

export interface PeerVerdicts {
  online(node: string, presence: PresencePayload): void;
  offline(node: string, presence: PresencePayload | undefined): void;
}

export interface PeersOptions {
  offlineGrace: number;
  timers: Timers;
  verdicts: PeerVerdicts;
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

/**
 * Whether `next` says something newer than `last` about the same node: a later
 * process (`since`), or the same process at a later connection (`n`), where a
 * connection's offline (its Will or goodbye) comes after its online. Presences of
 * two processes started in the same millisecond cannot be ordered: the newer
 * message wins.
 */
export function isNewerPresence(next: PresencePayload, last: PresencePayload | undefined): boolean {
  if (!last) return true;
  if (next.since !== last.since || next.epoch !== last.epoch) return next.since >= last.since;
  if (next.n !== last.n) return next.n > last.n;
  return next.state === 'offline' && last.state === 'online';
}

function isSamePresence(next: PresencePayload, last: PresencePayload | undefined): boolean {
  return last !== undefined && next.since === last.since && next.epoch === last.epoch && next.n === last.n && next.state === last.state;
}

export class Peers {
  /** Presences ignored because a newer one had been heard. */
  stale = 0;
  private readonly actors = new Map<string, AnyActor>();
  /** The last presence heard of each peer: what a verdict applies. */
  private readonly heard = new Map<string, PresencePayload | undefined>();

  constructor(private readonly options: PeersOptions) {}

  /** An `online` presence: counts at once (a suspect is cleared). */
  online(node: string, presence: PresencePayload): void {
    if (this.isStale(node, presence)) return;
    this.heard.set(node, presence);
    const actor = this.actors.get(node);
    if (!actor) this.actors.set(node, this.spawn(node));
    else actor.send({ type: 'peer.online' });
    this.options.verdicts.online(node, presence);
  }

  /** An `offline` presence (its Will or its goodbye): counts after the grace, unless taken back. */
  offline(node: string, presence: PresencePayload | undefined): void {
    if (presence && this.isStale(node, presence)) return;
    this.heard.set(node, presence);
    const actor = this.actors.get(node);
    if (actor) actor.send({ type: 'peer.offline' });
    else this.options.verdicts.offline(node, presence); // never seen online: nothing to take back
  }

  private isStale(node: string, presence: PresencePayload): boolean {
    const last = this.heard.get(node);
    if (isNewerPresence(presence, last)) return false;
    // The same presence again (its periodic refresh) says nothing new, and nothing out of order.
    if (!isSamePresence(presence, last)) this.stale++;
    return true;
  }

  /** Our own link dropped: the offlines heard just before were the broker leaving. */
  linkLost(): void {
    for (const actor of this.actors.values()) actor.send({ type: 'link.lost' });
  }

  stateOf(node: string): string | undefined {
    return this.actors.get(node)?.getSnapshot().value as string | undefined;
  }

  stop(): void {
    for (const actor of this.actors.values()) actor.stop();
    this.actors.clear();
  }

  private spawn(node: string): AnyActor {
    const { timers, offlineGrace, inspect } = this.options;
    const logic = peerMachine.provide({
      actions: {
        // Going online is applied by online() itself, at once: only the offline verdict waits.
        wentOffline: () => this.options.verdicts.offline(node, this.heard.get(node)),
      },
    });
    const clock = { setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, ms), clearTimeout: (id: unknown) => timers.clearTimeout(id) };
    return createActor(logic, { input: { node, offlineGrace }, inspect, clock: clock as never }).start();
  }
}

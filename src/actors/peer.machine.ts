/**
 * What this node believes of one other node:
 *
 *   online --peer.offline--> suspect --(offlineGrace)--> offline --peer.online--> online
 *                               \--peer.online | link.lost--> online
 *
 * `suspect` is the grace before an `offline` counts. A broker that shuts down
 * publishes every client's Last Will before it closes the connections, so each node
 * hears the others "die" just before its own link drops: those are taken back by
 * `link.lost`, while a real death still counts once the grace is over. The effects
 * (`wentOnline`, `wentOffline`) are provided by the cluster (`.provide()`); the
 * context holds only plain data, and the timer is xstate's, on the actor's clock.
 */
import { assign, setup } from 'xstate';

export interface PeerInput {
  node: string;
  offlineGrace: number;
}

interface PeerContext extends PeerInput {
  /** Times this peer was declared offline (a restart counts once). */
  downs: number;
}

export type PeerEvent = { type: 'peer.online' } | { type: 'peer.offline' } | { type: 'link.lost' };

export const peerMachine = setup({
  types: { input: {} as PeerInput, context: {} as PeerContext, events: {} as PeerEvent },
  delays: { offlineGrace: ({ context }) => context.offlineGrace },
  actions: {
    // Provided by the cluster: apply the verdict to the view, log it, sweep.
    wentOnline: () => {},
    wentOffline: () => {},
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({ ...input, downs: 0 }),
  initial: 'online',
  states: {
    online: {
      on: { 'peer.offline': 'suspect' },
    },
    suspect: {
      after: { offlineGrace: { target: 'offline', actions: [assign({ downs: ({ context }) => context.downs + 1 }), 'wentOffline'] } },
      on: { 'peer.online': 'online', 'link.lost': 'online' },
    },
    offline: {
      on: { 'peer.online': { target: 'online', actions: 'wentOnline' } },
    },
  },
});

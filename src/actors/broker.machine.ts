/**
 * The broker link's lifecycle:
 *
 *   connecting --mqtt.connected--> online --mqtt.lost--> offline --(backoff)--> connecting
 *        \--mqtt.lost--> offline                                  any --link.close--> closed
 *
 * The backoff doubles from `minBackoff` to `maxBackoff` with jitter (so a restarted
 * broker is not hit by every node in the same millisecond) and resets once online.
 * `link.retry` ends a backoff at once: the node's other link to the same broker just
 * came online, so the broker is back and waiting up to `maxBackoff` would only leave
 * the node half connected (sessions travel on one link, deliveries on the other).
 * The I/O (the mqtt.js client) is behind `io`: this machine only decides when.
 */
import { assign, setup } from 'xstate';

export interface BrokerIo {
  connect(): void;
  end(): void;
  online(sessionPresent: boolean): void;
  offline(reason: string): void;
}

export interface BrokerInput {
  io: BrokerIo;
  minBackoff?: number;
  maxBackoff?: number;
  random?: () => number;
}

interface BrokerContext {
  io: BrokerIo;
  minBackoff: number;
  maxBackoff: number;
  random: () => number;
  attempt: number;
  reconnects: number;
}

export type BrokerEvent =
  | { type: 'mqtt.connected'; sessionPresent: boolean }
  | { type: 'mqtt.lost'; reason: string }
  | { type: 'link.retry' }
  | { type: 'link.close' };

export const brokerMachine = setup({
  types: { input: {} as BrokerInput, context: {} as BrokerContext, events: {} as BrokerEvent },
  delays: {
    backoff: ({ context }) => {
      const ceiling = Math.min(context.maxBackoff, context.minBackoff * 2 ** Math.max(0, context.attempt - 1));
      return Math.round(ceiling / 2 + (context.random() * ceiling) / 2);
    },
  },
  actions: {
    connect: ({ context }) => context.io.connect(),
    end: ({ context }) => context.io.end(),
    announceOnline: ({ context, event }) => context.io.online(event.type === 'mqtt.connected' && event.sessionPresent),
    announceOffline: ({ context, event }) => context.io.offline(event.type === 'mqtt.lost' ? event.reason : 'unknown'),
    countReconnect: assign({ reconnects: ({ context }) => context.reconnects + 1 }),
  },
}).createMachine({
  id: 'broker',
  context: ({ input }) => ({
    io: input.io,
    minBackoff: input.minBackoff ?? 250,
    maxBackoff: input.maxBackoff ?? 5000,
    random: input.random ?? Math.random,
    attempt: 0,
    reconnects: 0,
  }),
  initial: 'connecting',
  on: { 'link.close': '.closed' },
  states: {
    connecting: {
      entry: 'connect',
      on: {
        'mqtt.connected': 'online',
        'mqtt.lost': 'offline',
      },
    },
    online: {
      entry: [assign({ attempt: 0 }), 'announceOnline'],
      on: { 'mqtt.lost': 'offline' },
    },
    offline: {
      entry: [assign({ attempt: ({ context }) => context.attempt + 1 }), 'announceOffline'],
      after: { backoff: { target: 'connecting', actions: 'countReconnect' } },
      on: { 'link.retry': { target: 'connecting', actions: 'countReconnect' } },
    },
    closed: { type: 'final', entry: 'end' },
  },
});

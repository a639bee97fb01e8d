/**
 * The coalescing buffer for messages bound for other nodes (rules in
 * cluster/coalesce.ts):
 *
 *   idle --buffer.enqueue--> waiting (ticker runs) --tick: flush due; empty--> idle
 *
 * The ticker runs only while something is queued. With `delayDuration` 0 a message
 * is forwarded at once and never queued. `settings.updated` applies to the next
 * arrivals and, when `timerFrequency` changed, restarts the ticker at the new pace.
 */
import { assign, setup } from 'xstate';
import { payloadOf, type Arrival, type CoalescingQueue, type QueuedEntry } from '../cluster/coalesce.ts';
import type { RemoteBufferConfig } from '../config/types.ts';
import type { Timers } from '../time/timers.ts';
import { ticker } from './ticker.actor.ts';

export interface BufferInput {
  /** The queue, owned by whoever counts it (metrics, stats); this machine alone adds and takes. */
  queue: CoalescingQueue;
  settings: RemoteBufferConfig;
  timers: Timers;
  /** Called with the entries leaving the buffer (due, or at once when delay is 0). */
  flush: (entries: QueuedEntry[], now: number) => void;
  /** Told of a payload dropped because the same one (`twin`, its id) was already queued. */
  coalesced?: (count: number, arrival: Arrival, twin: string | undefined) => void;
  /** Told of each arrival that went into the queue (the delivery trace records it). */
  queued?: (arrival: Arrival) => void;
}

type BufferContext = BufferInput;

export type BufferEvent =
  | { type: 'buffer.enqueue'; arrival: Arrival }
  | { type: 'tick' }
  | { type: 'buffer.drain' }
  | { type: 'settings.updated'; settings: RemoteBufferConfig };

export const bufferMachine = setup({
  types: { input: {} as BufferInput, context: {} as BufferContext, events: {} as BufferEvent },
  actors: { ticker },
  guards: {
    immediate: ({ context }) => context.settings.delayDuration === 0,
    empty: ({ context }) => context.queue.size === 0,
    paceChanged: ({ context, event }) => event.type === 'settings.updated' && event.settings.timerFrequency !== context.settings.timerFrequency,
  },
  actions: {
    forward: ({ context, event }) => {
      if (event.type !== 'buffer.enqueue') return;
      const now = context.timers.now();
      const { arrival } = event;
      context.flush([{ contextId: arrival.contextId, userId: arrival.userId, pathFilter: arrival.pathFilter, payloads: [payloadOf(arrival)], firstArrival: now, due: now }], now);
    },
    enqueue: ({ context, event }) => {
      if (event.type !== 'buffer.enqueue') return;
      // The queue is mutated in place: copying it per message is what this actor must not do.
      const { arrival } = event;
      if (context.queue.add(arrival, context.timers.now(), context.settings) === 'duplicate') context.coalesced?.(1, arrival, context.queue.twinOf(arrival));
      else context.queued?.(arrival);
    },
    flushDue: ({ context }) => {
      const now = context.timers.now();
      const due = context.queue.takeDue(now);
      if (due.length) context.flush(due, now);
    },
    flushAll: ({ context }) => {
      const all = context.queue.takeAll();
      if (all.length) context.flush(all, context.timers.now());
    },
    applySettings: assign({ settings: ({ context, event }) => (event.type === 'settings.updated' ? event.settings : context.settings) }),
  },
}).createMachine({
  id: 'buffer',
  context: ({ input }) => ({ ...input }),
  initial: 'idle',
  on: {
    'buffer.drain': { target: '.idle', actions: 'flushAll' },
  },
  states: {
    idle: {
      on: {
        'buffer.enqueue': [
          { guard: 'immediate', actions: 'forward' },
          { target: 'waiting', actions: 'enqueue' },
        ],
        'settings.updated': { actions: 'applySettings' },
      },
    },
    waiting: {
      invoke: {
        src: 'ticker',
        input: ({ context }) => ({ every: context.settings.timerFrequency, timers: context.timers }),
      },
      always: { guard: 'empty', target: 'idle' },
      on: {
        'buffer.enqueue': [{ guard: 'immediate', actions: 'forward' }, { actions: 'enqueue' }],
        tick: { actions: 'flushDue' },
        'settings.updated': [
          { guard: 'paceChanged', target: 'waiting', reenter: true, actions: 'applySettings' },
          { actions: 'applySettings' },
        ],
      },
    },
  },
});

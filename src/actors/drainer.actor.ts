/**
 * Closes a node's sockets with 1001, spread evenly over `duration` ms, so that a
 * node leaving does not make all its clients reconnect in the same second (a
 * thundering herd on the other nodes). Socket i of n closes at about i * duration / n;
 * sends `drain.done` after the last one. Stopping it cancels the rest.
 */
import { fromCallback } from 'xstate';
import { CloseCode } from '../errors.ts';
import type { ConnectionHandle } from '../delivery/socket-index.ts';
import type { Timers } from '../time/timers.ts';

export interface DrainerInput {
  handles: ConnectionHandle[];
  duration: number;
  timers: Timers;
}

/** Shortest pause between two batches: below it, close several sockets per batch. */
const MIN_STEP = 10;

export const drainer = fromCallback<{ type: 'noop' }, DrainerInput>(({ sendBack, input }) => {
  const { handles, duration, timers } = input;
  const n = handles.length;
  const step = n > 0 ? Math.max(MIN_STEP, duration / n) : 0;
  const perStep = n > 0 ? Math.max(1, Math.ceil((n * step) / Math.max(duration, 1))) : 0;
  let next = 0;
  let handle: unknown;
  const batch = () => {
    for (let k = 0; k < perStep && next < n; k++) {
      handles[next++].actor.send({ type: 'conn.close', code: CloseCode.GOING_AWAY, reason: 'node shutting down' });
    }
    if (next < n) handle = timers.setTimeout(batch, step);
    else sendBack({ type: 'drain.done' });
  };
  batch();
  return () => timers.clearTimeout(handle);
});

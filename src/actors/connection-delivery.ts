/**
 * Writing a message to a connection: the data plane beside the connection actor.
 *
 * The actor owns the lifecycle, and with it the one decision delivery needs: a socket
 * takes frames only while its actor is `open`. A frame changes no state, so it is not
 * an event: the writer reads the actor's state, writes through its ports and counts in
 * its context (in place, as the actor's own per-frame counters do). What does change
 * the lifecycle goes to the actor as an event: a slow consumer's close (1013), or the
 * close of a socket whose protocol failed to encode (1011).
 *
 * A socket whose stream is beginning (`recovering`) holds live messages back in its
 * ports: the recovery writes what was missed, then these (writeWaiting), so the
 * client sees its stream in order, with no gap and no repeat (its cursor skips what
 * it was given already).
 *
 * Why not an event per frame: xstate's event (mailbox, transition selection, action
 * resolution, a snapshot) was the largest cost of a push after the socket writes
 * themselves. bench/local-fanout, the server's CPU per delivered frame (20 sockets a
 * push, the push's HTTP request included): 49.0 us with an event per frame, 31.0 us
 * with this and the handshake changes of the same commit series (bench/README.md).
 */
import { CloseCode } from '../errors.ts';
import { advance, formatCursor, seen } from '../history/cursor.ts';
import type { OutboundMessage } from '../delivery/message.ts';
import type { ConnectionActor } from './connection.machine.ts';
import { portsOf } from './connection-ports.ts';

/** The longest close reason a close frame may carry (RFC 6455 section 5.5: 125 bytes less the code). */
const MAX_CLOSE_REASON = 123;

/**
 * What became of one message: written, held for a stream that is beginning, or why
 * not, as the node counts a drop (`closing`: not open yet, or closing; `invalid`: its
 * protocol could not encode it; `duplicate`: the socket's stream had it already).
 */
export type DeliveryOutcome = 'written' | 'held' | 'closing' | 'invalid' | 'duplicate';

/**
 * Writes `outbound` as one frame if the connection is open. Never throws: a failure
 * costs this socket, closed with 1011, not the caller's other sockets; the caller
 * counts what was not written by the outcome.
 */
export function deliverMessage(actor: ConnectionActor, outbound: OutboundMessage): DeliveryOutcome {
  const snapshot = actor.getSnapshot();
  if (snapshot.matches('open')) return writeFrame(actor, outbound);
  // A socket with a stream takes its messages from admission on: one accepted between
  // its admission and its recovery's read is held, not lost (the read may not show it yet).
  if (snapshot.matches('recovering') || (snapshot.matches('authenticated') && snapshot.context.stream)) return hold(actor, outbound);
  return 'closing';
}

/** Writes one message (the caller knows the socket takes frames: open, or its recovery writing). */
export function writeFrame(actor: ConnectionActor, outbound: OutboundMessage): DeliveryOutcome {
  const { context } = actor.getSnapshot();
  const { protocol, socket, hooks } = portsOf(actor)!;
  const { cursor } = context;
  let offset: string | undefined;
  if (cursor && outbound.position) {
    if (seen(cursor, outbound.position)) return 'duplicate';
    advance(cursor, outbound.position);
    offset = formatCursor(cursor);
  }
  try {
    socket!.send(protocol.encode({ id: outbound.id, message: outbound.message, offset }));
  } catch (error) {
    actor.send({ type: 'conn.close', code: CloseCode.INTERNAL_ERROR, reason: closeReason(`internal error: ${(error as Error)?.message ?? String(error)}`) });
    return 'invalid';
  }
  context.stats.sent++;
  // Backpressure: what the kernel did not take waits in user space; past the limit
  // the consumer is too slow and is closed rather than buffered forever.
  if (socket!.bufferedAmount > context.settings.maxBufferedBytes) {
    hooks.slowConsumer(context, socket!.bufferedAmount);
    actor.send({ type: 'conn.close', code: CloseCode.TRY_AGAIN_LATER, reason: 'slow consumer' });
  }
  return 'written';
}

/** Holds a live message until the stream's recovery is written; bounded like a socket's send buffer. */
function hold(actor: ConnectionActor, outbound: OutboundMessage): DeliveryOutcome {
  const ports = portsOf(actor)!;
  const waiting = (ports.waiting ??= { messages: [], bytes: 0 });
  waiting.messages.push(outbound);
  waiting.bytes += outbound.message.length;
  const { context } = actor.getSnapshot();
  if (waiting.bytes > context.settings.maxBufferedBytes) {
    ports.hooks.slowConsumer(context, waiting.bytes);
    actor.send({ type: 'conn.close', code: CloseCode.TRY_AGAIN_LATER, reason: 'slow consumer' });
  }
  return 'held';
}

/** Writes what waited during the recovery, in arrival order; returns how many frames were written. */
export function writeWaiting(actor: ConnectionActor): number {
  const ports = portsOf(actor)!;
  const messages = ports.waiting?.messages ?? [];
  ports.waiting = undefined;
  let written = 0;
  for (const outbound of messages) if (writeFrame(actor, outbound) === 'written') written++;
  return written;
}

/** `text` cut to what a close frame can carry, on a character boundary. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON) reason = reason.slice(0, -1);
  return reason;
}

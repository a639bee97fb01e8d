/**
 * `deliver/<ctx>/<user>`: messages for a user's sockets, published by the node that
 * accepted them. This node is subscribed because it holds a socket of the user.
 */
import { decodeDelivery } from '../codec.ts';
import type { Handler } from './context.ts';
import type { OutboundMessage } from '../../delivery/message.ts';

export const deliver: Handler<'deliver'> = (topic, body, parts) => {
  const message = body === undefined ? undefined : decodeDelivery(body);
  if (!message) return parts.invalid('deliver', `${topic.contextId}:${topic.userId}`);
  // The sender wrote to its own sockets when it accepted the push.
  if (message.from === parts.nodeId) return;
  // Confirmed whatever becomes of it here (a repeat too: its first receipt may be the one lost).
  if (message.e !== undefined) parts.receipts.received(message.from, message.e, message.f!);
  // Past the dedup window a repeat of it would no longer be recognised: dropped
  // (counted `stale`) rather than risk writing it twice.
  const stale = parts.now() - message.at > parts.window();
  if (stale) parts.log.info('cluster.stale_delivery', { from: message.from, messages: message.p.length });
  for (const item of message.p) {
    const outbound: OutboundMessage = { id: item.i, message: item.m, contextId: topic.contextId, userId: topic.userId, pathFilter: message.filter, sourceToken: item.s };
    if (item.o !== undefined) outbound.position = { origin: item.o, seq: item.q!, at: item.t!, prev: item.p ?? 0, prevAt: item.r ?? 0 };
    if (item.k === 1) outbound.keep = true;
    const trace = parts.trace.open(item.i, outbound.keep);
    parts.trace.received(trace, message.from, message.f ?? 0, stale ? 'stale' : 'delivered');
    if (stale) {
      parts.local.skip(outbound, 'stale', trace);
      continue;
    }
    parts.stats.remoteReceived++;
    parts.local.deliver(outbound, trace);
  }
};

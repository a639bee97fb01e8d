/**
 * `receipts/<node>`: another node confirms it got this node's delivery publishes
 * (receipts.ts); only this node subscribes to its own receipts topic. Receipts for an
 * earlier process of this node (another epoch) name publishes it no longer holds.
 */
import { decodeReceipt } from '../codec.ts';
import type { Handler } from './context.ts';

export const receipt: Handler<'receipt'> = (topic, body, parts) => {
  if (topic.node !== parts.nodeId) return;
  const message = body === undefined ? undefined : decodeReceipt(body);
  if (!message) return parts.invalid('receipt', topic.node);
  if (message.e !== parts.epoch) return;
  parts.awaiting.confirm(message.from, message.f);
};

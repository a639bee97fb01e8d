/** `sessions/_ended`: a node applied a logout; only the logouts this node waits for mean anything. */
import { decodeEndConfirmation } from '../codec.ts';
import type { Handler } from './context.ts';

export const ended: Handler<'ended'> = (_topic, body, parts) => {
  const confirmation = body === undefined ? undefined : decodeEndConfirmation(body);
  if (!confirmation) return parts.invalid('ended', 'sessions');
  parts.endConfirmations.confirm(confirmation.confirms, confirmation.by);
};

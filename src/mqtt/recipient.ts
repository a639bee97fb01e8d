/** Whether a user may receive a message: in the directory, enabled, and with web sockets on through the cascade. */
import type { Directory } from '../directory/directory.ts';
import type { EnabledResolver } from '../directory/enabled-cache.ts';
import type { Recipient } from './ingress-check.ts';

export function recipientOf(directory: Directory, enabled: EnabledResolver, serverValue: boolean | undefined, contextId: number, userId: number): Recipient {
  const context = directory.context(contextId);
  const user = directory.user(contextId, userId);
  if (!context || !user) return 'unknown';
  if (!context.enabled || !user.enabled) return 'disabled';
  return enabled.isEnabled(directory, contextId, userId, serverValue) ? 'ok' : 'disabled';
}

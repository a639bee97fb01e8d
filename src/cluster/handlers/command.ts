/** `commands`: a close command from another node (the admin API's DELETE, documented codes only), or an application session's end (its logout hook). */
import { compilePathFilter } from '../../delivery/path-filter.ts';
import { decodeCommand } from '../codec.ts';
import type { Handler } from './context.ts';

export const command: Handler<'command'> = (_topic, body, parts) => {
  const message = body === undefined ? undefined : decodeCommand(body);
  if (!message) return parts.invalid('command', 'commands');
  if (message.from === parts.nodeId || parts.now() - message.at > parts.window() || !parts.commandIds.firstSeen(message.id)) return;
  if (message.type === 'end-session') {
    const closed = parts.local.endSession(message.session);
    parts.log.info('cluster.end_session_command', { from: message.from, closed });
    return;
  }
  const closed = parts.local.close(message.ctx, message.user, compilePathFilter(message.filter), message.code);
  parts.log.info('cluster.close_command', { from: message.from, contextId: message.ctx, userId: message.user, closed });
};

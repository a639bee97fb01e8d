/**
 * What the node counts and logs of its connections: the hooks every connection
 * actor calls (inbound frames, slow consumers), and the one line logged
 * when a connection ends. Rules about connections live in connection.machine.ts;
 * this is their bookkeeping.
 */
import type { ConnectionHooks, ConnectionOutput } from './connection.machine.ts';
import type { ConnectionHandle } from '../delivery/socket-index.ts';
import type { NodeStats } from '../delivery/stats.ts';
import type { Logger } from '../log/logger.ts';

export function connectionHooks(stats: NodeStats, log: Logger, recover: ConnectionHooks['recover'], egress?: ConnectionHooks['inbound']): ConnectionHooks {
  return {
    recover,
    inbound: (connection, message) => {
      stats.messagesReceived++;
      log.debug('ws.message', { connectionId: connection.connectionId, bytes: message.text.length });
      egress?.(connection, message);
    },
    slowConsumer: (connection, bufferedBytes) => {
      stats.slowConsumerCloses++;
      log.warn('ws.slow_consumer', {
        connectionId: connection.connectionId,
        contextId: connection.identity?.contextId,
        userId: connection.identity?.userId,
        bufferedBytes,
      });
    },
  };
}

/**
 * A connection reached `closed`: count it, and log one line (a refused handshake was
 * logged by the handshake). One admitted and then refused (the client went away
 * while the node waited for the broker's subscription) was counted open at its
 * admission: it leaves the open count, and no close code is counted for it.
 */
export function connectionEnded(stats: NodeStats, log: Logger, output: ConnectionOutput, handle: ConnectionHandle | undefined): void {
  if (output.rejection) {
    // Refused after it was admitted (ws refused the headers, the broker the user's topic):
    // it was counted open, so it is counted gone, though it never opened.
    if (handle) stats.socketReleased(handle.prefix);
    return;
  }
  if (handle) stats.socketEnded(handle.prefix, output.code);
  log.info('ws.closed', {
    connectionId: output.connectionId,
    contextId: handle?.contextId,
    userId: handle?.userId,
    code: output.code,
    reason: output.reason,
    by: output.by,
    durationMs: output.durationMs,
    messagesSent: output.sent,
    messagesReceived: output.received,
  });
}

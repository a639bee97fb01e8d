import { expect } from 'chai';
import { connectionEnded } from '../../src/actors/connection-log.ts';
import type { ConnectionOutput } from '../../src/actors/connection.machine.ts';
import type { ConnectionHandle } from '../../src/delivery/socket-index.ts';
import { NodeStats } from '../../src/delivery/stats.ts';
import { silentLogger } from '../../src/log/logger.ts';

const handle = { connectionId: 'c1', contextId: 1, userId: 2, sessionId: 's', path: '/ws/a', prefix: '/ws', remoteAddress: '127.0.0.1', connectedAt: 0 } as ConnectionHandle;
const output = (over: Partial<ConnectionOutput>) => ({ connectionId: 'c1', code: 1000, reason: '', by: 'client', durationMs: 1, sent: 0, received: 0, ...over }) as ConnectionOutput;

describe('connection-log', () => {
  describe('#connectionEnded', () => {
    it('takes a closed socket out of the open count and counts its close code', () => {
      const stats = new NodeStats();
      stats.socketAdmitted('/ws');
      connectionEnded(stats, silentLogger, output({ code: 1006 }), handle);
      expect(stats.socketsByPrefix.get('/ws')).to.equal(0);
      expect([...stats.closes]).to.deep.equal([[1006, 1]]);
    });

    it('takes an admitted socket refused before its 101 (client gone during the handshake) out of the open count, with no close code', () => {
      const stats = new NodeStats();
      stats.socketAdmitted('/ws');
      connectionEnded(stats, silentLogger, output({ code: 0, rejection: 'ERR_BAD_REQUEST', by: 'rejected' } as Partial<ConnectionOutput>), handle);
      expect(stats.socketsByPrefix.get('/ws')).to.equal(0);
      expect(stats.closes.size).to.equal(0);
    });

    it('leaves the count alone for a refusal that was never admitted (no handle)', () => {
      const stats = new NodeStats();
      connectionEnded(stats, silentLogger, output({ code: 0, rejection: 'ERR_SESSION_UNKNOWN' } as Partial<ConnectionOutput>), undefined);
      expect(stats.socketsByPrefix.size).to.equal(0);
    });
  });
});

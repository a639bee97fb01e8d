import { expect } from 'chai';
import { formatSockets } from '../../src/cli/sockets.ts';
import { formatStats } from '../../src/cli/stats.ts';
import { formatAge, formatFields, formatTable, plural } from '../../src/cli/table.ts';

const NOW = Date.UTC(2030, 0, 1);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('cli output', () => {
  describe('#formatTable', () => {
    it('aligns columns two spaces apart, numbers to the right, without trailing spaces', () => {
      const text = formatTable(
        [
          { header: 'ID', cell: (r: { id: number; name: string }) => String(r.id), align: 'right' },
          { header: 'NAME', cell: (r) => r.name },
          { header: 'X', cell: () => '' },
        ],
        [{ id: 7, name: 'alice' }, { id: 123, name: 'bo' }],
      );
      expect(text).to.equal(' ID  NAME   X\n  7  alice\n123  bo\n');
    });
  });

  describe('#formatFields', () => {
    it('aligns the values after the longest label', () => {
      expect(formatFields([['a', '1'], ['long', '2']])).to.equal('a     1\nlong  2\n');
    });
  });

  describe('#formatAge', () => {
    for (const [ago, text] of [
      [0, 'just now'],
      [999, 'just now'],
      [SECOND, '1s ago'],
      [45 * SECOND, '45s ago'],
      [3 * MINUTE + 12 * SECOND, '3m 12s ago'],
      [5 * MINUTE, '5m ago'],
      [2 * HOUR + 5 * MINUTE + 30 * SECOND, '2h 5m ago'],
      [2 * HOUR + 30 * SECOND, '2h ago'],
      [3 * DAY + 4 * HOUR, '3d 4h ago'],
      [-3 * SECOND, 'in 3s'],
    ] as const) {
      it(`reads ${text} for ${ago} ms ago`, () => {
        expect(formatAge(NOW - ago, NOW)).to.equal(text);
      });
    }
  });

  describe('#plural', () => {
    it('uses the singular for one only', () => {
      expect([0, 1, 2].map((n) => plural(n, 'socket'))).to.deep.equal(['0 sockets', '1 socket', '2 sockets']);
      expect(plural(2, 'publish', 'publishes')).to.equal('2 publishes');
    });
  });

  describe('#formatSockets', () => {
    const row = (userId: number, path: string, connectionId: string, ago: number) => ({
      contextId: 1, userId, path, connectionId, node: 'n1', remoteAddress: '10.0.0.9', connectedAt: NOW - ago,
    });

    it('orders rows by context, user, path, then age, and counts them', () => {
      const text = formatSockets([row(4, '/ws/b', 'c3', 0), row(3, '/ws/b', 'c2', 0), row(3, '/ws/a', 'c1', 2 * MINUTE)], NOW, { cluster: false, filtered: false });
      expect(text).to.equal(
        [
          'CONTEXT  USER  PATH   CONNECTION  NODE  REMOTE ADDRESS  CONNECTED',
          '      1     3  /ws/a  c1          n1    10.0.0.9        2m ago',
          '      1     3  /ws/b  c2          n1    10.0.0.9        just now',
          '      1     4  /ws/b  c3          n1    10.0.0.9        just now',
          '',
          '3 sockets on this node',
          '',
        ].join('\n'),
      );
    });

    it('says there are none, in the scope asked', () => {
      expect(formatSockets([], NOW, { cluster: true, filtered: false })).to.equal('no sockets in the cluster\n');
      expect(formatSockets([], NOW, { cluster: false, filtered: true })).to.equal('no matching sockets on this node\n');
    });
  });

  describe('#formatStats', () => {
    const body = {
      node: { id: 'n1', route: '' },
      sockets: { local: 2, cluster: 5 },
      nodes: 3,
      bufferedMessages: 1,
      sessions: 4,
      counters: {
        handshakes: { accepted: 9, rejected: { ERR_ORIGIN_DENIED: 1, ERR_SESSION_UNKNOWN: 3 } },
        messages: { delivered: 20, received: 2, dropped: { offline: 1, closing: 1, stale: 4 } },
        slowConsumerCloses: 1,
        remote: { publishes: 1, sent: 6, received: 7 },
      },
    };

    it('breaks the rejections and drops down by cause, largest first', () => {
      expect(formatStats(body)).to.equal(
        [
          'node            n1 (route -)',
          'sockets         2 on this node, 5 in the cluster',
          'nodes           3',
          'buffered        1 message',
          'sessions        4',
          'handshakes      9 accepted, 4 rejected: ERR_SESSION_UNKNOWN 3, ERR_ORIGIN_DENIED 1',
          'messages        20 delivered, 2 received, 6 dropped: stale 4, closing 1, offline 1',
          'slow consumers  1 closed',
          'remote          1 publish to other nodes, 6 messages sent, 7 received',
          '',
        ].join('\n'),
      );
    });

    it('prints "-" for what an older node does not send', () => {
      const { nodes: _nodes, ...old } = body;
      const text = formatStats({ ...old, sockets: { local: 2 }, counters: { ...body.counters, remote: undefined } });
      expect(text).to.contain('sockets         2 on this node, - in the cluster\n');
      expect(text).to.contain('nodes           -\n');
      expect(text).to.contain('remote          -\n');
    });
  });
});

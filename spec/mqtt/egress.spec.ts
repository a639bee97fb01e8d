/**
 * Egress of client frames: the payload per protocol (pure), the bound by
 * cluster.outboxLimit below the socket, and a real node whose broker is gone: the
 * socket keeps working, the frames past the limit are dropped and counted.
 */
import { expect } from 'chai';
import type { ConnectionContext } from '../../src/actors/connection.machine.ts';
import { NodeStats } from '../../src/delivery/stats.ts';
import { createLogger } from '../../src/log/logger.ts';
import { Egress, egressPayload, type EgressLink } from '../../src/mqtt/egress.ts';
import { Topics } from '../../src/cluster/topics.ts';
import { eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { killAllBrokers, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startEmbeddedBrokerProcess } from '../support/broker.ts';
import { startNode, type TestNode } from '../support/node.ts';

const CONNECTION: ConnectionContext = {
  connectionId: 'c1',
  path: '/ws/demo',
  remoteAddress: '127.0.0.1',
  protocol: 'raw',
  settings: { pingInterval: 1, pingTimeout: 1, maxBufferedBytes: 1 },
  connectedAt: 0,
  identity: { contextId: 1, userId: 3, sessionId: 's' },
  stats: { sent: 0, received: 0 },
};

function fakeLink(pending: number, accepts = true): EgressLink & { published: Array<{ topic: string; body: unknown }> } {
  const published: Array<{ topic: string; body: unknown }> = [];
  return {
    published,
    pending,
    publish(topic, payload) {
      if (accepts) published.push({ topic, body: JSON.parse(payload.toString()) });
      return accepts;
    },
  };
}

function egress(link: EgressLink | undefined, options: { enabled?: boolean; limit?: number; now?: () => number; logs?: string[] } = {}) {
  const stats = new NodeStats();
  const e = new Egress({
    nodeId: 'n1',
    topics: new Topics('wsmesh'),
    enabled: () => options.enabled ?? true,
    limit: () => options.limit ?? 10,
    link: () => link,
    stats,
    log: createLogger('debug', (line) => options.logs?.push(line)),
    now: options.now ?? (() => 1000),
  });
  return { frame: e.frame, stats };
}

describe('MQTT egress', () => {
  describe('egressPayload', () => {
    it('carries a raw frame as message, a Socket.IO event as event and args', () => {
      expect(JSON.parse(egressPayload('n1', '/ws/x', 5, { text: 'hi' }))).to.deep.equal({ node: 'n1', path: '/ws/x', at: 5, message: 'hi' });
      expect(JSON.parse(egressPayload('n1', '/socket.io/a', 5, { text: '{}', event: { name: 'e', args: [1, { a: null }] } }))).to.deep.equal({
        node: 'n1',
        path: '/socket.io/a',
        at: 5,
        event: 'e',
        args: [1, { a: null }],
      });
    });
  });

  describe('Egress', () => {
    it("publishes to the user's egress topic with the connection id", () => {
      const link = fakeLink(0);
      const { frame, stats } = egress(link);
      frame(CONNECTION, { text: 'hello' });
      expect(link.published).to.deep.equal([{ topic: 'wsmesh/egress/1/3/c1', body: { node: 'n1', path: '/ws/demo', at: 1000, message: 'hello' } }]);
      expect(stats.egress.published).to.equal(1);
    });

    it('drops a frame, without calling the link, when what the link holds reached the limit (a slow broker)', () => {
      const link = fakeLink(10);
      const { frame, stats } = egress(link, { limit: 10 });
      frame(CONNECTION, { text: 'x' });
      expect(link.published).to.deep.equal([]);
      expect(Object.fromEntries(stats.egress.dropped)).to.deep.equal({ outboxFull: 1 });
    });

    it('counts a frame the link refuses (its outbox full while offline), and one with no link at all', () => {
      const refused = egress(fakeLink(0, false));
      refused.frame(CONNECTION, { text: 'x' });
      expect(Object.fromEntries(refused.stats.egress.dropped)).to.deep.equal({ outboxFull: 1 });
      const none = egress(undefined);
      none.frame(CONNECTION, { text: 'x' });
      expect(Object.fromEntries(none.stats.egress.dropped)).to.deep.equal({ offline: 1 });
    });

    it('logs drops at most once a second, with the count since the last line', () => {
      let t = 0;
      const logs: string[] = [];
      const { frame } = egress(fakeLink(99), { now: () => t, logs });
      for (let i = 0; i < 5; i++) frame(CONNECTION, { text: 'x' });
      t = 1000;
      for (let i = 0; i < 3; i++) frame(CONNECTION, { text: 'x' });
      const lines = logs.filter((l) => l.includes('egress.dropped')).map((l) => JSON.parse(l));
      expect(lines.map((l) => l.dropped)).to.deep.equal([1, 5]);
    });

    it('does nothing while mqtt.egress is off', () => {
      const link = fakeLink(0);
      const { frame, stats } = egress(link, { enabled: false });
      frame(CONNECTION, { text: 'x' });
      expect(link.published).to.deep.equal([]);
      expect(stats.egress.published + stats.egress.dropped.size).to.equal(0);
    });
  });

  describe('a node whose broker is gone', function () {
    this.timeout(30000);
    let node: TestNode | undefined;
    const sockets: TestSocket[] = [];
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.close();
      await node?.stop();
    });
    after(() => killAllBrokers());

    it('keeps serving the socket, holds frames up to cluster.outboxLimit and drops the rest, counted', async () => {
      const broker = await startEmbeddedBrokerProcess();
      node = await startNode(['--broker', broker.url, '--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD, '--mqtt.egress', 'true', '--cluster.outboxLimit', '20', '--cluster.keepalive', '1']);
      const auth = await login(node.url);
      const socket = await openSocket(node.wsUrl, auth);
      sockets.push(socket);
      await broker.stop('SIGKILL');
      await eventually(() => node!.node.link!.state !== 'online', 'the link to notice', 10_000);
      for (let i = 0; i < 50; i++) socket.ws.send(`frame ${i}`);
      await eventually(() => node!.node.stats.messagesReceived === 50, 'the 50 frames received');
      // The socket is not blocked: a push still reaches it at once.
      expect((await push(node.url, { contextId: 1, userId: 3, message: 'still here' })).status).to.equal(202);
      expect(await socket.nextFrames(1)).to.deep.equal(['still here']);
      const dropped = node.node.stats.egress.dropped.get('outboxFull') ?? 0;
      console.log(`      50 frames with the broker gone: ${node.node.stats.egress.published} queued, ${dropped} dropped (outboxLimit 20, what the link held already counts)`);
      expect(node.node.stats.egress.published + dropped).to.equal(50);
      expect(dropped).to.be.at.least(30);
    });
  });
});

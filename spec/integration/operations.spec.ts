/**
 * What operators rely on: Prometheus metrics, readiness, and a drain that spreads
 * the closes over server.drainDuration.
 */
import { expect } from 'chai';
import { startNode, type TestNode } from '../support/node.ts';
import { eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { freePort } from '../support/process.ts';

function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('operations', function () {
  this.timeout(30000);
  let node: TestNode | undefined;
  const sockets: TestSocket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await node?.stop();
    node = undefined;
  });

  describe('GET /metrics', () => {
    it('exports sockets, handshakes, deliveries and drops with the wsmesh_ prefix, and process metrics', async () => {
      node = await startNode();
      const auth = await login(node.url);
      sockets.push(await openSocket(node.wsUrl, auth, '/ws/a'));
      await openSocket(node.wsUrl, { session: 'nope', cookie: auth.cookie }).catch(() => undefined);
      await push(node.url, { contextId: 1, userId: 3, message: 'm' });
      await push(node.url, { contextId: 1, userId: 4, message: 'nobody' });
      const res = await fetch(`${node.url}/metrics`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.contain('text/plain');
      const text = await res.text();
      expect(metric(text, 'wsmesh_sockets_open', '{prefix="/ws"}')).to.equal(1);
      expect(metric(text, 'wsmesh_handshakes_total', '{outcome="accepted",code=""}')).to.equal(1);
      expect(metric(text, 'wsmesh_handshakes_total', '{outcome="rejected",code="ERR_SESSION_UNKNOWN"}')).to.equal(1);
      expect(metric(text, 'wsmesh_messages_delivered_total')).to.equal(1);
      expect(metric(text, 'wsmesh_messages_dropped_total', '{reason="offline"}')).to.equal(1);
      expect(metric(text, 'wsmesh_sessions')).to.equal(1);
      expect(metric(text, 'wsmesh_buffer_messages')).to.equal(0);
      expect(text).to.match(/^wsmesh_nodejs_eventloop_lag_seconds /m);
      expect(text).to.match(/^wsmesh_process_resident_memory_bytes /m);
      expect(text).to.contain('# TYPE wsmesh_buffer_flush_age_seconds histogram');
    });

    it('counts closes by code once sockets close', async () => {
      node = await startNode();
      const auth = await login(node.url);
      const socket = await openSocket(node.wsUrl, auth);
      socket.ws.close(1000);
      await socket.closedWith();
      await eventually(async () => metric(await (await fetch(`${node!.url}/metrics`)).text(), 'wsmesh_socket_closes_total', '{code="1000"}') === 1, 'the close to be counted');
      const text = await (await fetch(`${node.url}/metrics`)).text();
      expect(metric(text, 'wsmesh_sockets_open', '{prefix="/ws"}')).to.equal(0);
    });

    it('requires metrics.token as a bearer token when set', async () => {
      node = await startNode(['--metrics.token', 'scrape-me']);
      expect((await fetch(`${node.url}/metrics`)).status).to.equal(401);
      const wrong = await fetch(`${node.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).to.equal(401);
      expect((await wrong.json()).error).to.equal('ERR_ADMIN_AUTH');
      expect((await fetch(`${node.url}/metrics`, { headers: { authorization: 'Bearer scrape-me' } })).status).to.equal(200);
    });
  });

  describe('GET /readyz', () => {
    it('answers 200 while the node accepts sockets', async () => {
      node = await startNode();
      const res = await fetch(`${node.url}/readyz`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.include({ ready: true });
    });

    it('answers 503 while the broker is unreachable, 200 once it is there, and /healthz stays 200', async () => {
      const port = await freePort();
      node = await startNode(['--broker', `mqtt://127.0.0.1:${port}`], { brokerWait: 200 });
      const res = await fetch(`${node.url}/readyz`);
      expect(res.status).to.equal(503);
      expect((await res.json()).checks.broker).to.not.equal('online');
      expect((await fetch(`${node.url}/healthz`)).status).to.equal(200);
      const { startEmbeddedBroker } = await import('../../src/cluster/embedded-broker.ts');
      const broker = await startEmbeddedBroker({ host: '127.0.0.1', port, allowAnonymous: true });
      try {
        const offline = await (await fetch(`${node.url}/metrics`)).text();
        for (const link of ['main', 'control']) expect(metric(offline, 'wsmesh_broker_link_state', `{link="${link}",state="online"}`), `${link} link online`).to.equal(0);
        await eventually(async () => (await fetch(`${node!.url}/readyz`)).status === 200, 'readiness once the broker is up', 10000);
        const online = await (await fetch(`${node.url}/metrics`)).text();
        for (const link of ['main', 'control']) {
          expect(metric(online, 'wsmesh_broker_link_state', `{link="${link}",state="online"}`), `${link} link online`).to.equal(1);
          expect(metric(online, 'wsmesh_broker_outbox_messages', `{link="${link}"}`), `${link} outbox`).to.equal(0);
        }
      } finally {
        await node.stop();
        node = undefined;
        await broker.close();
      }
    });
  });

  describe('drain (SIGTERM)', () => {
    it('spreads the 1001 closes over server.drainDuration, answers /readyz 503 and refuses upgrades meanwhile', async () => {
      node = await startNode(['--server.drainDuration', '1000', '--websockets.maxSocketsPerUser', '20']);
      const auth = await login(node.url);
      for (let i = 0; i < 10; i++) sockets.push(await openSocket(node.wsUrl, auth, `/ws/s${i}`));
      const closedAt: number[] = [];
      for (const socket of sockets) socket.ws.on('close', () => closedAt.push(Date.now()));
      const started = Date.now();
      const stopped = node.stop();
      // While draining: not ready, no new sockets, but still answering.
      const ready = await fetch(`${node.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect((await ready.json()).checks.accepting).to.equal(false);
      const refused = await openSocket(node.wsUrl, auth, '/ws/late').catch((e) => e);
      expect(refused.status).to.equal(503);
      expect(refused.body.error).to.equal('ERR_SHUTTING_DOWN');
      await stopped;
      node = undefined;
      expect(closedAt).to.have.length(10);
      for (const socket of sockets) expect(socket.closeCode).to.equal(1001);
      // Socket i closes at about i * 100 ms: count the closes per 250 ms window.
      const windows = [0, 0, 0, 0];
      for (const t of closedAt) windows[Math.min(3, Math.floor((t - started) / 250))]++;
      expect(windows.every((n) => n >= 1 && n <= 4), `closes per 250 ms window: ${windows}`).to.equal(true);
      expect(Math.max(...closedAt) - started).to.be.at.least(700);
    });
  });
});

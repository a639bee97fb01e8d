/**
 * Socket paths and path filters with `.` or `..` segments are refused with 400
 * ERR_PATH_INVALID, written as is or percent-encoded: a proxy in front may resolve
 * them (and route `/ws/../admin` as `/admin`) where wsmesh would not. The upgrades
 * are written by hand: `ws` and fetch resolve dot segments before sending.
 */
import { expect } from 'chai';
import { login, push, type Login } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { ADMIN, as, expectHealthy, rawExchange, request, SocketPool, untilLocalSockets } from './support/http.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

const RAW_QUERY = '';
const SOCKET_IO_QUERY = 'EIO=4&transport=websocket&';

/** Dot-segment paths under each served prefix, with the query each prefix needs. */
const DOTTED_UPGRADES: Array<{ path: string; query: string }> = [
  ...['/ws/../admin', '/ws/./x', '/ws/%2e%2e/admin', '/ws/%2E%2E/admin', '/ws/%2E/x', '/ws/.%2e/x', '/ws/demo/..', '/ws/demo/../', '/ws/demo/.', '/ws/..', '/foo/../ws/demo'].map(
    (path) => ({ path, query: RAW_QUERY }),
  ),
  ...['/socket.io/../admin', '/socket.io/./appsuite', '/socket.io/%2e%2e/x', '/socket.io/appsuite/%2E', '/socket.io/appsuite/..', '/socket.io/appsuite/../'].map((path) => ({
    path,
    query: SOCKET_IO_QUERY,
  })),
];

/** Filters with a dot segment; every route taking a filter refuses each. */
const DOTTED_FILTERS = ['/ws/../admin', '/ws/./x', '/ws/demo/..', '/ws/..', '/ws/../*', '/ws/./*', '/..', '/.', '/ws/%2e%2e', '/ws/%2E'];

describe('http dot segments', () => {
  let node: TestNode;
  let alice: Login;
  const sockets = new SocketPool(() => node.wsUrl);

  before(async () => {
    node = await startNode();
    alice = await login(node.url);
  });
  afterEach(() => sockets.terminateAll());
  after(async () => node?.stop());

  async function stats(): Promise<any> {
    const answer = await request(`${node.url}/api/admin/stats`, { headers: ADMIN });
    expect(answer.status).to.equal(200);
    return answer.body;
  }

  /** A well-formed, authenticated upgrade to `target`, written on a raw TCP connection. */
  function rawUpgrade(target: string): ReturnType<typeof rawExchange> {
    const host = new URL(node.url).host;
    const lines = [`GET ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', `Cookie: ${alice.cookie}`];
    return rawExchange(node.url, lines.join('\r\n') + '\r\n\r\n');
  }

  describe('#upgrade', () => {
    it('refuses every path with a dot segment with 400 ERR_PATH_INVALID, on /ws and /socket.io, and opens no socket', async () => {
      const before = (await stats()).counters.handshakes.rejected.ERR_PATH_INVALID ?? 0;
      const wrong: string[] = [];
      for (const { path, query } of DOTTED_UPGRADES) {
        // rawExchange resolves only when the node closes the connection: a refusal leaves nothing open.
        const answer = await rawUpgrade(`${path}?${query}session=${alice.session}`);
        if (answer.status !== 400 || answer.body?.error !== 'ERR_PATH_INVALID' || typeof answer.body?.message !== 'string') {
          wrong.push(`${path}: ${answer.raw.split('\r\n')[0]} ${JSON.stringify(answer.body)}`);
        }
      }
      const after = await stats();
      const counted = (after.counters.handshakes.rejected.ERR_PATH_INVALID ?? 0) - before;
      console.log(
        `      dot segments: ${DOTTED_UPGRADES.length} upgrades, ${DOTTED_UPGRADES.length - wrong.length} refused with 400 ERR_PATH_INVALID, ${wrong.length} wrong; counted rejected ${counted}; sockets open: local ${after.sockets.local}, index ${node.node.index.size}`,
      );
      expect(wrong).to.deep.equal([]);
      expect(counted).to.equal(DOTTED_UPGRADES.length);
      expect(after.sockets.local).to.equal(0);
      expect(node.node.index.size).to.equal(0);
      await expectHealthy(node);
    });

    it('still opens sockets whose segments merely contain dots, on both prefixes', async () => {
      const paths = ['/ws/v1.2', '/ws/...', '/ws/.hidden', '/socket.io/app.suite'];
      for (const path of paths) {
        await sockets.open(as(alice, { path, query: path.startsWith('/socket.io') ? { EIO: '4', transport: 'websocket' } : {} }));
      }
      const rows = (await request(`${node.url}/api/admin/sockets`, { headers: ADMIN })).body as Array<{ path: string }>;
      console.log(`      dotted but valid: ${rows.length} of ${paths.length} sockets open`);
      expect(rows.map((row) => row.path).sort()).to.deep.equal([...paths].sort());
      sockets.terminateAll();
      await untilLocalSockets(node, 0);
    });
  });

  describe('path filters', () => {
    it('refuses a dot segment with 400 ERR_PATH_INVALID in a push body and in the admin close, and accepts dotted names', async () => {
      const tally = { push: 0, close: 0, wrong: [] as string[] };
      for (const pathFilter of DOTTED_FILTERS) {
        const pushed = await push(node.url, { contextId: 1, userId: 3, message: 'x', pathFilter });
        if (pushed.status === 400 && pushed.body?.error === 'ERR_PATH_INVALID' && typeof pushed.body.message === 'string') tally.push++;
        else tally.wrong.push(`push ${pathFilter}: ${pushed.status} ${JSON.stringify(pushed.body)}`);
        const query = new URLSearchParams({ contextId: '1', userId: '3', pathFilter });
        const closed = await request(`${node.url}/api/admin/sockets?${query}`, { method: 'DELETE', headers: ADMIN });
        if (closed.status === 400 && closed.body?.error === 'ERR_PATH_INVALID' && typeof closed.body.message === 'string') tally.close++;
        else tally.wrong.push(`close ${pathFilter}: ${closed.status} ${closed.text}`);
      }
      console.log(`      dotted filters: ${DOTTED_FILTERS.length} each; push refused ${tally.push}, close refused ${tally.close}, ${tally.wrong.length} wrong`);
      expect(tally.wrong).to.deep.equal([]);

      // A dotted name is a name: the socket at /ws/v1.2 gets the push filtered to it.
      const socket = await sockets.open(as(alice, { path: '/ws/v1.2' }));
      const accepted = await push(node.url, { contextId: 1, userId: 3, message: 'to v1.2', pathFilter: '/ws/v1.2' });
      expect(accepted.status).to.equal(202);
      expect(await socket.nextFrames(1)).to.deep.equal(['to v1.2']);
    });
  });
});

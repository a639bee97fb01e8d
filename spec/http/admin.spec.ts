import { expect } from 'chai';
import { push, type Login, type TestSocket } from '../support/client.ts';
import { ADMIN, as, listSockets, request, untilLocalSockets } from './support/http.ts';
import { sharedNode } from './support/shared-node.ts';

const ROW_KEYS = ['contextId', 'userId', 'path', 'connectionId', 'node', 'remoteAddress', 'connectedAt'];

describe('http admin', () => {
  const shared = sharedNode(['--route', 'R9']);
  const { sockets } = shared;

  function open(auth: Login, path: string, connection: string): Promise<TestSocket> {
    return sockets.open(as(auth, { path, query: { connection } }));
  }

  function del(query: string, headers: Record<string, string> = ADMIN) {
    return request(`${shared.node.url}/api/admin/sockets${query}`, { method: 'DELETE', headers });
  }

  /** Pushes a marker to the socket's user and waits for it: proof the socket is open and indexed. */
  async function expectAlive(socket: TestSocket, auth: Login, marker: string): Promise<void> {
    const had = socket.frames.length;
    const sent = await push(shared.node.url, { contextId: auth.contextId, userId: auth.userId, message: marker });
    expect(sent.status).to.equal(202);
    await socket.nextFrames(had + 1);
    expect(socket.frames).to.include(marker);
    expect(socket.closeCode).to.equal(undefined);
  }

  describe('#GET /api/admin/sockets', () => {
    it('lists every local socket with context, user, path, connection id, node, address and time', async () => {
      const before = Date.now();
      await open(shared.alice, '/ws/a', 'a1');
      await open(shared.bob, '/ws/b', 'b1');
      const after = Date.now();
      const rows = await listSockets(shared.node);
      expect(rows).to.have.length(2);
      for (const row of rows) {
        expect(row).to.have.all.keys(...ROW_KEYS);
        expect(row.node).to.equal('test-node');
        expect(row.remoteAddress).to.equal('127.0.0.1');
        expect(row.connectedAt).to.be.within(before, after);
      }
      const byId = Object.fromEntries(rows.map((row: any) => [row.connectionId, row]));
      expect(byId.a1).to.include({ contextId: 1, userId: 3, path: '/ws/a' });
      expect(byId.b1).to.include({ contextId: 1, userId: 4, path: '/ws/b' });
    });

    it('answers an empty list when no socket is open', async () => {
      expect(await listSockets(shared.node)).to.deep.equal([]);
    });

    it('filters by contextId, by userId and by both', async () => {
      await open(shared.alice, '/ws/a', 'a1');
      await open(shared.alice, '/ws/a', 'a2');
      await open(shared.bob, '/ws/b', 'b1');
      const ids = async (query: string) => (await listSockets(shared.node, query)).map((row: any) => row.connectionId).sort();
      expect(await ids('?contextId=1')).to.deep.equal(['a1', 'a2', 'b1']);
      expect(await ids('?contextId=2')).to.deep.equal([]);
      expect(await ids('?contextId=1&userId=3')).to.deep.equal(['a1', 'a2']);
      expect(await ids('?userId=4')).to.deep.equal(['b1']);
      expect(await ids('?contextId=2&userId=3')).to.deep.equal([]);
    });

    it('answers the same rows for scope=cluster on a single node', async () => {
      await open(shared.alice, '/ws/a', 'a1');
      expect(await listSockets(shared.node, '?scope=cluster')).to.deep.equal(await listSockets(shared.node, '?scope=local'));
    });

    for (const query of ['?contextId=abc', '?contextId=0', '?userId=-1', '?userId=1.5', '?contextId=1&contextId=2', '?scope=everywhere']) {
      it(`answers 400 ERR_BAD_REQUEST for ${query}`, async () => {
        const answer = await request(`${shared.node.url}/api/admin/sockets${query}`, { headers: ADMIN });
        expect(answer.status).to.equal(400);
        expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
      });
    }

    it('answers 405 with Allow listing GET and DELETE for POST', async () => {
      const answer = await request(`${shared.node.url}/api/admin/sockets`, { method: 'POST', headers: ADMIN });
      expect(answer.status).to.equal(405);
      expect(answer.headers.allow?.split(', ').sort()).to.deep.equal(['DELETE', 'GET']);
    });
  });

  describe('#DELETE /api/admin/sockets', () => {
    it("closes the user's sockets with 4403, answers how many, and leaves others open", async () => {
      const a1 = await open(shared.alice, '/ws/a', 'a1');
      const a2 = await open(shared.alice, '/ws/b', 'a2');
      const b1 = await open(shared.bob, '/ws/a', 'b1');
      const answer = await del('?contextId=1&userId=3');
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ closed: 2 });
      expect(await a1.closedWith()).to.equal(4403);
      expect(await a2.closedWith()).to.equal(4403);
      await untilLocalSockets(shared.node, 1);
      await expectAlive(b1, shared.bob, 'bob still here');
      expect(await listSockets(shared.node, '?contextId=1&userId=3')).to.deep.equal([]);
    });

    it('closes only the sockets matching pathFilter', async () => {
      const a = await open(shared.alice, '/ws/a', 'a');
      const ab = await open(shared.alice, '/ws/a/b', 'ab');
      const other = await open(shared.alice, '/ws/ab', 'other');
      const answer = await del('?contextId=1&userId=3&pathFilter=' + encodeURIComponent('/ws/a/*'));
      expect(answer.body).to.deep.equal({ closed: 2 });
      expect(await a.closedWith()).to.equal(4403);
      expect(await ab.closedWith()).to.equal(4403);
      await untilLocalSockets(shared.node, 1);
      await expectAlive(other, shared.alice, 'other still here');
    });

    it('answers {closed: 0} for a user without sockets', async () => {
      const b1 = await open(shared.bob, '/ws/a', 'b1');
      expect((await del('?contextId=1&userId=3')).body).to.deep.equal({ closed: 0 });
      await expectAlive(b1, shared.bob, 'untouched');
    });

    for (const query of ['', '?contextId=1', '?userId=3', '?contextId=x&userId=3', '?contextId=1&userId=0', '?contextId=1&userId=3&userId=4']) {
      it(`answers 400 ERR_BAD_REQUEST for ${query || 'no query'} and closes nothing`, async () => {
        const a1 = await open(shared.alice, '/ws/a', 'a1');
        const answer = await del(query);
        expect(answer.status).to.equal(400);
        expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
        await expectAlive(a1, shared.alice, 'still open');
      });
    }

    for (const filter of ['a', '/ws/a/', '//a', '']) {
      it(`answers 400 ERR_INVALID_PATH_FILTER for pathFilter=${JSON.stringify(filter)} and closes nothing`, async () => {
        const a1 = await open(shared.alice, '/ws/a', 'a1');
        const answer = await del(`?contextId=1&userId=3&pathFilter=${encodeURIComponent(filter)}`);
        expect(answer.status).to.equal(400);
        expect(answer.body.error).to.equal('ERR_INVALID_PATH_FILTER');
        await expectAlive(a1, shared.alice, 'still open');
      });
    }
  });

  describe('#GET /api/admin/stats', () => {
    it('answers the node, its socket count, the buffered messages and the counters', async () => {
      await open(shared.alice, '/ws/a', 'a1');
      await open(shared.bob, '/ws/b', 'b1');
      const answer = await request(`${shared.node.url}/api/admin/stats`, { headers: ADMIN });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include.all.keys('node', 'sockets', 'bufferedMessages', 'sessions', 'counters');
      expect(answer.body.node).to.deep.equal({ id: 'test-node', route: 'R9' });
      // A single node: the cluster is this node alone.
      expect(answer.body.sockets).to.deep.equal({ local: 2, cluster: 2 });
      expect(answer.body.nodes).to.equal(1);
      expect(answer.body.bufferedMessages).to.equal(0);
      expect(answer.body.sessions).to.be.at.least(2);
      expect(answer.body.counters.handshakes.accepted).to.be.at.least(2);
    });

    it('follows the socket count down when sockets close', async () => {
      const a1 = await open(shared.alice, '/ws/a', 'a1');
      expect((await request(`${shared.node.url}/api/admin/stats`, { headers: ADMIN })).body.sockets.local).to.equal(1);
      a1.close();
      await untilLocalSockets(shared.node, 0);
      expect((await request(`${shared.node.url}/api/admin/stats`, { headers: ADMIN })).body.sockets.local).to.equal(0);
    });

    it('lists no secret: no session id, cookie or token appears in stats or listing', async () => {
      await open(shared.alice, '/ws/a', 'a1');
      const texts = [(await request(`${shared.node.url}/api/admin/stats`, { headers: ADMIN })).text, (await request(`${shared.node.url}/api/admin/sockets`, { headers: ADMIN })).text];
      const secret = shared.alice.cookie.split('; ')[0]!.split('=')[1]!;
      for (const text of texts) {
        expect(text).to.not.contain(shared.alice.session);
        expect(text).to.not.contain(secret);
        expect(text).to.not.contain(ADMIN.authorization.slice(7));
      }
    });
  });

  describe('#authorization', () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/admin/sockets'],
      ['DELETE', '/api/admin/sockets?contextId=1&userId=3'],
      ['GET', '/api/admin/stats'],
    ];
    for (const [method, path] of routes) {
      it(`answers 401 ERR_ADMIN_AUTH for ${method} ${path.split('?')[0]} without a token or with a wrong one`, async () => {
        const a1 = await open(shared.alice, '/ws/a', 'a1');
        for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Basic ${ADMIN.authorization.slice(7)}` }]) {
          const answer = await request(`${shared.node.url}${path}`, { method, headers });
          expect(answer.status, JSON.stringify(headers)).to.equal(401);
          expect(answer.body.error).to.equal('ERR_ADMIN_AUTH');
          expect(answer.headers['www-authenticate']).to.match(/^Bearer /);
        }
        await expectAlive(a1, shared.alice, 'not closed');
      });
    }
  });
});

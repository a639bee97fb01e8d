import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Directory } from '../../src/directory/directory.ts';
import { login, push } from '../support/client.ts';
import { DEMO_DIRECTORY, startNode, type TestNode } from '../support/node.ts';
import { as, cookieHeader, cookiesOf, OTHER_LOOPBACK, request, setCookie, SocketPool, untilLocalSockets } from './support/http.ts';

const HOUR = 3_600_000;

function sessionUrl(node: TestNode, id: string): string {
  return `${node.url}/api/session?session=${encodeURIComponent(id)}`;
}

describe('http session', () => {
  let node: TestNode;
  const sockets = new SocketPool(() => node.wsUrl);

  before(async () => {
    node = await startNode(['--route', 'OX2']);
  });

  afterEach(() => sockets.terminateAll());

  after(async () => {
    await node?.stop();
  });

  describe('#GET /api/session', () => {
    it('answers 200 with the public view of the session when id and cookie match', async () => {
      const before = Date.now();
      const alice = await login(node.url);
      const answer = await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie } });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.have.all.keys('userId', 'contextId', 'route', 'expiresAt');
      expect(answer.body).to.include({ userId: 3, contextId: 1, route: 'OX2' });
      expect(answer.body.expiresAt).to.be.within(before + HOUR, Date.now() + HOUR);
    });

    it('answers 400 ERR_SESSION_MISSING without ?session', async () => {
      const alice = await login(node.url);
      for (const url of [`${node.url}/api/session`, `${node.url}/api/session?session=`]) {
        const answer = await request(url, { headers: { cookie: alice.cookie } });
        expect(answer.status, url).to.equal(400);
        expect(answer.body.error, url).to.equal('ERR_SESSION_MISSING');
      }
    });

    it('answers 403 ERR_SESSION_UNKNOWN for an id no login issued', async () => {
      const alice = await login(node.url);
      const answer = await request(sessionUrl(node, '0'.repeat(32)), { headers: { cookie: alice.cookie } });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SESSION_UNKNOWN');
    });

    it('answers 403 ERR_SECRET_MISMATCH without a cookie: the public id alone never authenticates', async () => {
      const alice = await login(node.url);
      const answer = await request(sessionUrl(node, alice.session));
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
    });

    it("answers 403 ERR_SECRET_MISMATCH with another session's cookie", async () => {
      const first = await login(node.url);
      const second = await login(node.url);
      const answer = await request(sessionUrl(node, first.session), { headers: { cookie: second.cookie } });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
    });

    it("answers 403 ERR_SECRET_MISMATCH with another user's cookie", async () => {
      const alice = await login(node.url);
      const bob = await login(node.url, 'bob@demo', 'builder');
      const answer = await request(sessionUrl(node, alice.session), { headers: { cookie: bob.cookie } });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
    });

    it('answers 403 ERR_SECRET_MISMATCH when the secret is tampered with', async () => {
      const alice = await login(node.url);
      const cookies = cookiesOf(alice);
      const secret = cookies['wsmesh-secret']!;
      const tampered = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
      const cookie = cookieHeader({ ...cookies, 'wsmesh-secret': tampered });
      const answer = await request(sessionUrl(node, alice.session), { headers: { cookie } });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
    });

    it('answers 403 ERR_SECRET_MISMATCH when the signature is wrong or missing', async () => {
      const alice = await login(node.url);
      const cookies = cookiesOf(alice);
      const badSig = cookieHeader({ ...cookies, 'wsmesh-secret.sig': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      const noSig = cookieHeader({ 'wsmesh-secret': cookies['wsmesh-secret']! });
      for (const cookie of [badSig, noSig]) {
        const answer = await request(sessionUrl(node, alice.session), { headers: { cookie } });
        expect(answer.status).to.equal(403);
        expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
      }
      // The genuine cookie still works: the failures did not end the session.
      expect((await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie } })).status).to.equal(200);
    });

    it('answers 403 ERR_DISABLED when the user was disabled after the login', async () => {
      const alice = await login(node.url);
      const original = node.node.live.directory;
      const data = JSON.parse(readFileSync(DEMO_DIRECTORY, 'utf8'));
      data.users.find((u: any) => u.login === 'alice').enabled = false;
      node.node.applyDirectory(Directory.parse(JSON.stringify(data), 'disabled-alice'));
      try {
        const answer = await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie } });
        expect(answer.status).to.equal(403);
        expect(answer.body.error).to.equal('ERR_DISABLED');
      } finally {
        node.node.applyDirectory(original);
      }
    });

    it('answers 403 ERR_IP_MISMATCH when called from another address than the login', async () => {
      const alice = await login(node.url);
      const answer = await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie }, localAddress: OTHER_LOOPBACK });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_IP_MISMATCH');
    });

    it('ignores X-Forwarded-For: the peer address decides (no proxy is trusted by default)', async () => {
      const alice = await login(node.url);
      const spoofed = await request(sessionUrl(node, alice.session), {
        headers: { cookie: alice.cookie, 'x-forwarded-for': '127.0.0.1' },
        localAddress: OTHER_LOOPBACK,
      });
      expect(spoofed.status).to.equal(403);
      expect(spoofed.body.error).to.equal('ERR_IP_MISMATCH');
      const forwarded = await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie, 'x-forwarded-for': '10.1.2.3' } });
      expect(forwarded.status).to.equal(200);
    });

    it('answers 200 from another address when session.ipCheck is false', async () => {
      const lax = await startNode(['--session.ipCheck', 'false']);
      try {
        const alice = await login(lax.url);
        const answer = await request(sessionUrl(lax, alice.session), { headers: { cookie: alice.cookie }, localAddress: OTHER_LOOPBACK });
        expect(answer.status).to.equal(200);
        expect(answer.body).to.include({ userId: 3 });
      } finally {
        await lax.stop();
      }
    });
  });

  describe('#expiry', () => {
    let short: TestNode;

    before(async () => {
      short = await startNode(['--session.maxAge', '300']);
    });

    after(async () => {
      await short?.stop();
    });

    it('answers 403 ERR_SESSION_UNKNOWN once the session has expired', async () => {
      const alice = await login(short.url);
      expect((await request(sessionUrl(short, alice.session), { headers: { cookie: alice.cookie } })).status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const answer = await request(sessionUrl(short, alice.session), { headers: { cookie: alice.cookie } });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SESSION_UNKNOWN');
    });

    it("closes the session's sockets with 4401 when it expires", async () => {
      const expiring = new SocketPool(() => short.wsUrl);
      try {
        const alice = await login(short.url);
        const socket = await expiring.open(as(alice));
        expect(await socket.closedWith(2000)).to.equal(4401);
        await untilLocalSockets(short, 0);
      } finally {
        expiring.terminateAll();
      }
    });
  });

  describe('#POST /api/logout', () => {
    function logout(id: string | undefined, cookie?: string) {
      const query = id === undefined ? '' : `?session=${encodeURIComponent(id)}`;
      return request(`${node.url}/api/logout${query}`, { method: 'POST', headers: cookie ? { cookie } : {} });
    }

    it('answers 204 and ends the session', async () => {
      const alice = await login(node.url);
      const answer = await logout(alice.session, alice.cookie);
      expect(answer.status).to.equal(204);
      expect(answer.text).to.equal('');
      const after = await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie } });
      expect(after.status).to.equal(403);
      expect(after.body.error).to.equal('ERR_SESSION_UNKNOWN');
    });

    it('clears the secret, its signature and JSESSIONID with a past expiry', async () => {
      const alice = await login(node.url);
      const answer = await logout(alice.session, alice.cookie);
      for (const name of ['wsmesh-secret', 'wsmesh-secret.sig', 'JSESSIONID']) {
        const cleared = setCookie(answer.setCookies, name);
        // The signature cookie carries the signature of the empty value; its expiry removes it.
        if (name !== 'wsmesh-secret.sig') expect(cleared.value, name).to.equal('');
        expect(Date.parse(cleared.attributes.get('expires') ?? ''), `${name} expires`).to.be.below(Date.now());
        expect(cleared.attributes.get('path'), `${name} path`).to.equal('/');
      }
    });

    it('answers 403 ERR_SECRET_MISMATCH without the cookie and keeps the session', async () => {
      const alice = await login(node.url);
      const answer = await logout(alice.session);
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
      expect((await request(sessionUrl(node, alice.session), { headers: { cookie: alice.cookie } })).status).to.equal(200);
    });

    it("answers 403 ERR_SECRET_MISMATCH with another session's cookie and ends neither", async () => {
      const first = await login(node.url);
      const second = await login(node.url);
      const answer = await logout(first.session, second.cookie);
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_SECRET_MISMATCH');
      expect((await request(sessionUrl(node, first.session), { headers: { cookie: first.cookie } })).status).to.equal(200);
      expect((await request(sessionUrl(node, second.session), { headers: { cookie: second.cookie } })).status).to.equal(200);
    });

    it('answers 400 ERR_SESSION_MISSING without ?session', async () => {
      const alice = await login(node.url);
      const answer = await logout(undefined, alice.cookie);
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('ERR_SESSION_MISSING');
    });

    it('lets a session log out from another address (no IP check on logout)', async () => {
      const alice = await login(node.url);
      const answer = await request(`${node.url}/api/logout?session=${alice.session}`, { method: 'POST', headers: { cookie: alice.cookie }, localAddress: OTHER_LOOPBACK });
      expect(answer.status).to.equal(204);
    });

    it("closes every socket of the session with 4401 and leaves the user's other session open", async () => {
      const ending = await login(node.url);
      const staying = await login(node.url);
      const a = await sockets.open(as(ending, { path: '/ws/a' }));
      const b = await sockets.open(as(ending, { path: '/ws/b' }));
      const other = await sockets.open(as(staying, { path: '/ws/a' }));
      await untilLocalSockets(node, 3);

      expect((await logout(ending.session, ending.cookie)).status).to.equal(204);
      expect(await a.closedWith()).to.equal(4401);
      expect(await b.closedWith()).to.equal(4401);
      await untilLocalSockets(node, 1);

      const sent = await push(node.url, { contextId: 1, userId: 3, message: 'still here' });
      expect(sent.body).to.deep.include({ local: 1, remote: 0 });
      expect(await other.nextFrames(1)).to.deep.equal(['still here']);
      expect(other.closeCode).to.equal(undefined);
    });
  });
});

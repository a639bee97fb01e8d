import { expect } from 'chai';
import { hashPassword } from '../../src/directory/password.ts';
import { login } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { cookieHeader, cookiesOf, postJson, request, setCookie } from './support/http.ts';

describe('http login', () => {
  let node: TestNode;

  before(async () => {
    node = await startNode(['--route', 'OX7']);
  });

  after(async () => {
    await node?.stop();
  });

  describe('#POST /api/login', () => {
    it('answers 200 with the session id, user, context and route when the password matches', async () => {
      const answer = await postJson(`${node.url}/api/login`, { login: 'alice@demo', password: 'wonderland' });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.have.all.keys('session', 'userId', 'contextId', 'route');
      expect(answer.body.session).to.match(/^[0-9a-f]{32}$/);
      expect(answer.body).to.include({ userId: 3, contextId: 1, route: 'OX7' });
    });

    it('sets the secret cookie HttpOnly, SameSite=Lax on / with its signature', async () => {
      const answer = await postJson(`${node.url}/api/login`, { login: 'alice@demo', password: 'wonderland' });
      const secret = setCookie(answer.setCookies, 'wsmesh-secret');
      expect(secret.value).to.have.length.greaterThan(20);
      expect(secret.attributes.has('httponly')).to.equal(true);
      expect(secret.attributes.get('samesite')?.toLowerCase()).to.equal('lax');
      expect(secret.attributes.get('path')).to.equal('/');
      const sig = setCookie(answer.setCookies, 'wsmesh-secret.sig');
      expect(sig.value).to.not.equal('');
      // The secret is a cookie only: the body never carries it.
      expect(answer.text).to.not.contain(secret.value);
    });

    it('sets JSESSIONID=<hex>.<route> HttpOnly on / with the configured route', async () => {
      const answer = await postJson(`${node.url}/api/login`, { login: 'alice@demo', password: 'wonderland' });
      const sticky = setCookie(answer.setCookies, 'JSESSIONID');
      expect(sticky.value).to.match(/^[0-9a-f]+\.OX7$/);
      expect(sticky.attributes.has('httponly')).to.equal(true);
      expect(sticky.attributes.get('path')).to.equal('/');
    });

    it('uses the node id as the route when no route is configured', async () => {
      const plain = await startNode();
      try {
        const answer = await postJson(`${plain.url}/api/login`, { login: 'bob@demo', password: 'builder' });
        expect(answer.body.route).to.equal('test-node');
        expect(setCookie(answer.setCookies, 'JSESSIONID').value).to.match(/^[0-9a-f]+\.test-node$/);
      } finally {
        await plain.stop();
      }
    });

    it('issues a new secret and session id on every login', async () => {
      const first = await login(node.url);
      const second = await login(node.url);
      expect(second.session).to.not.equal(first.session);
      expect(cookiesOf(second)['wsmesh-secret']).to.not.equal(cookiesOf(first)['wsmesh-secret']);
    });

    it('accepts a bare login when exactly one context has it', async () => {
      const answer = await postJson(`${node.url}/api/login`, { login: 'alice', password: 'wonderland' });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ userId: 3, contextId: 1 });
    });

    it('answers 401 ERR_LOGIN_FAILED with the same body for an unknown login and a wrong password', async () => {
      const unknown = await postJson(`${node.url}/api/login`, { login: 'mallory@demo', password: 'wonderland' });
      const wrong = await postJson(`${node.url}/api/login`, { login: 'alice@demo', password: 'not-wonderland' });
      expect(unknown.status).to.equal(401);
      expect(wrong.status).to.equal(401);
      expect(unknown.body.error).to.equal('ERR_LOGIN_FAILED');
      expect(unknown.text).to.equal(wrong.text);
      expect(unknown.setCookies).to.deep.equal([]);
      expect(wrong.setCookies).to.deep.equal([]);
    });

    it('answers 401 for an unknown context in a qualified login', async () => {
      const answer = await postJson(`${node.url}/api/login`, { login: 'alice@nowhere', password: 'wonderland' });
      expect(answer.status).to.equal(401);
      expect(answer.body.error).to.equal('ERR_LOGIN_FAILED');
    });

    it('answers 403 ERR_DISABLED for a disabled user with the right password', async () => {
      const answer = await postJson(`${node.url}/api/login`, { login: 'dave@demo', password: 'dave-pass' });
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('ERR_DISABLED');
      expect(answer.setCookies).to.deep.equal([]);
    });

    it('answers 401, not 403, for a disabled user with a wrong password', async () => {
      // Otherwise the answer would tell who exists and is disabled.
      const answer = await postJson(`${node.url}/api/login`, { login: 'dave@demo', password: 'wrong' });
      expect(answer.status).to.equal(401);
      expect(answer.body.error).to.equal('ERR_LOGIN_FAILED');
    });

    it('answers 403 ERR_DISABLED for an enabled user of a disabled context', async () => {
      const directoryText = JSON.stringify({
        contexts: [{ id: 9, name: 'frozen', enabled: false }],
        users: [{ id: 1, context: 9, login: 'erin', password: await hashPassword('erin-pass') }],
      });
      const frozen = await startNode([], { directoryText });
      try {
        const answer = await postJson(`${frozen.url}/api/login`, { login: 'erin@frozen', password: 'erin-pass' });
        expect(answer.status).to.equal(403);
        expect(answer.body.error).to.equal('ERR_DISABLED');
      } finally {
        await frozen.stop();
      }
    });

    const badBodies: Array<[string, string]> = [
      ['a body that is not JSON', '{"login": "alice@demo", "password": '],
      ['a JSON array', '["alice@demo", "wonderland"]'],
      ['a JSON string', '"alice@demo"'],
      ['JSON null', 'null'],
      ['a missing password', '{"login": "alice@demo"}'],
      ['a missing login', '{"password": "wonderland"}'],
      ['an empty login', '{"login": "", "password": "wonderland"}'],
      ['a number as login', '{"login": 3, "password": "wonderland"}'],
      ['a number as password', '{"login": "alice@demo", "password": 1234}'],
      ['an object as password', '{"login": "alice@demo", "password": {"$ne": ""}}'],
    ];
    for (const [what, body] of badBodies) {
      it(`answers 400 ERR_BAD_REQUEST for ${what}`, async () => {
        const answer = await request(`${node.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(answer.status).to.equal(400);
        expect(answer.body).to.include({ error: 'ERR_BAD_REQUEST' });
        expect(answer.body.message).to.be.a('string');
      });
    }

    it('answers 415 ERR_UNSUPPORTED_MEDIA_TYPE for a form body', async () => {
      const answer = await request(`${node.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'login=alice%40demo&password=wonderland',
      });
      expect(answer.status).to.equal(415);
      expect(answer.body.error).to.equal('ERR_UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 415 for JSON sent as text/plain', async () => {
      const answer = await request(`${node.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ login: 'alice@demo', password: 'wonderland' }),
      });
      expect(answer.status).to.equal(415);
      expect(answer.body.error).to.equal('ERR_UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 ERR_PAYLOAD_TOO_LARGE for a body declared over 1 MiB', async () => {
      const body = JSON.stringify({ login: 'alice@demo', password: 'x'.repeat(1024 * 1024) });
      const answer = await request(`${node.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(answer.status).to.equal(413);
      expect(answer.body.error).to.equal('ERR_PAYLOAD_TOO_LARGE');
    });

    it('answers 413 for a chunked body that grows past 1 MiB', async () => {
      const chunks = [Buffer.from('{"login": "alice@demo", "password": "'), ...Array.from({ length: 17 }, () => Buffer.alloc(64 * 1024, 'x')), Buffer.from('"}')];
      const answer = await request(`${node.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, chunks });
      expect(answer.status).to.equal(413);
      expect(answer.body.error).to.equal('ERR_PAYLOAD_TOO_LARGE');
      expect((await request(`${node.url}/healthz`)).status).to.equal(200);
    });

    it('ends the session of the cookie it came with and issues a new secret', async () => {
      const first = await login(node.url);
      const res = await postJson(`${node.url}/api/login`, { login: 'alice@demo', password: 'wonderland' }, { cookie: first.cookie });
      expect(res.status).to.equal(200);
      expect(res.body.session).to.not.equal(first.session);
      const secret = setCookie(res.setCookies, 'wsmesh-secret');
      expect(secret.value).to.not.equal(cookiesOf(first)['wsmesh-secret']);

      const old = await request(`${node.url}/api/session?session=${first.session}`, { headers: { cookie: first.cookie } });
      expect(old.status).to.equal(403);
      expect(old.body.error).to.equal('ERR_SESSION_UNKNOWN');

      const cookie = cookieHeader({ 'wsmesh-secret': secret.value, 'wsmesh-secret.sig': setCookie(res.setCookies, 'wsmesh-secret.sig').value });
      const fresh = await request(`${node.url}/api/session?session=${res.body.session}`, { headers: { cookie } });
      expect(fresh.status).to.equal(200);
      expect(fresh.body).to.include({ userId: 3, contextId: 1 });
    });

    it('keeps the old session when the second login fails', async () => {
      const first = await login(node.url);
      const failed = await postJson(`${node.url}/api/login`, { login: 'alice@demo', password: 'nope' }, { cookie: first.cookie });
      expect(failed.status).to.equal(401);
      const old = await request(`${node.url}/api/session?session=${first.session}`, { headers: { cookie: first.cookie } });
      expect(old.status).to.equal(200);
    });
  });

  describe('#routing', () => {
    it('answers 404 ERR_NOT_FOUND for an unknown route', async () => {
      const answer = await request(`${node.url}/api/nope`);
      expect(answer.status).to.equal(404);
      expect(answer.body).to.deep.equal({ error: 'ERR_NOT_FOUND', message: answer.body.message });
      expect(answer.body.message).to.be.a('string');
    });

    it('answers 405 ERR_METHOD_NOT_ALLOWED with an Allow header for GET /api/login', async () => {
      const answer = await request(`${node.url}/api/login`);
      expect(answer.status).to.equal(405);
      expect(answer.body.error).to.equal('ERR_METHOD_NOT_ALLOWED');
      expect(answer.headers.allow).to.equal('POST');
    });

    it('answers 405 with Allow: GET for DELETE /healthz', async () => {
      const answer = await request(`${node.url}/healthz`, { method: 'DELETE' });
      expect(answer.status).to.equal(405);
      expect(answer.headers.allow).to.equal('GET');
    });
  });

  describe('#GET /healthz', () => {
    it('answers 200 with the node id', async () => {
      const answer = await request(`${node.url}/healthz`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ status: 'ok', node: 'test-node' });
    });
  });
});

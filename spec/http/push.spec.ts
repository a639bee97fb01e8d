import { expect } from 'chai';
import { login, push, type Login, type TestSocket } from '../support/client.ts';
import { ADMIN, as, request } from './support/http.ts';
import { sharedNode } from './support/shared-node.ts';

const ALICE = { contextId: 1, userId: 3 } as const;
const END = '__end__';

describe('http push', () => {
  const shared = sharedNode();
  const { sockets } = shared;

  /** Alice's sockets by name: `{a: '/ws/a'}` opens `/ws/a` with connection id `a`. */
  async function openAll(paths: Record<string, string>, auth: Login = shared.alice): Promise<Record<string, TestSocket>> {
    const opened: Record<string, TestSocket> = {};
    for (const [name, path] of Object.entries(paths)) opened[name] = await sockets.open(as(auth, { path, query: { connection: name } }));
    return opened;
  }

  /**
   * Pushes `message` to alice, then an end marker to all her sockets; a socket's
   * frames are ordered, so once every socket has the marker, the sockets without
   * `message` before it were not addressed.
   */
  async function reach(targets: Record<string, TestSocket>, body: Record<string, unknown>): Promise<{ local: number; reached: string[] }> {
    const sent = await push(shared.node.url, { ...ALICE, message: 'hello', ...body });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    expect((await push(shared.node.url, { ...ALICE, message: END })).status).to.equal(202);
    const reached: string[] = [];
    for (const [name, socket] of Object.entries(targets)) {
      await socket.nextFrames(1);
      await until(socket, END);
      const end = socket.frames.indexOf(END);
      if (socket.frames.slice(0, end).length > 0) reached.push(name);
    }
    return { local: sent.body.local, reached: reached.sort() };
  }

  async function until(socket: TestSocket, frame: string): Promise<void> {
    for (let count = 1; !socket.frames.includes(frame); count++) await socket.nextFrames(count);
  }

  describe('#POST /api/push', () => {
    it('answers 202 {local, remote: 0} and writes the string as one text frame', async () => {
      const { tab } = await openAll({ tab: '/ws/demo' });
      const sent = await push(shared.node.url, { ...ALICE, message: 'hi "there"' });
      expect(sent.status).to.equal(202);
      expect(sent.body).to.deep.include({ local: 1, remote: 0 });
      expect(await tab!.nextFrames(1)).to.deep.equal(['hi "there"']);
    });

    it('writes an object message as its JSON text', async () => {
      const { tab } = await openAll({ tab: '/ws/demo' });
      const message = { name: 'mail:new', args: [{ id: 7, subject: 'é ✓' }] };
      expect((await push(shared.node.url, { ...ALICE, message })).body.local).to.equal(1);
      const [frame] = await tab!.nextFrames(1);
      expect(frame).to.equal(JSON.stringify(message));
    });

    it("reaches every socket of the user, across sessions, and none of another user's", async () => {
      const again = await login(shared.node.url);
      const mine = await openAll({ one: '/ws/demo' });
      const other = await openAll({ two: '/ws/demo' }, again);
      const bobs = await openAll({ three: '/ws/demo' }, shared.bob);
      const { local, reached } = await reach({ ...mine, ...other }, {});
      expect(local).to.equal(2);
      expect(reached).to.deep.equal(['one', 'two']);
      const toBob = await push(shared.node.url, { contextId: 1, userId: 4, message: 'for bob' });
      expect(toBob.body.local).to.equal(1);
      expect(await bobs.three!.nextFrames(1)).to.deep.equal(['for bob']);
    });

    it('answers local 0 for a user with no socket', async () => {
      await openAll({ tab: '/ws/demo' }, shared.bob);
      expect((await push(shared.node.url, { ...ALICE, message: 'nobody' })).body).to.deep.include({ local: 0, remote: 0 });
      expect((await push(shared.node.url, { contextId: 2, userId: 4, message: 'wrong context' })).body).to.deep.include({ local: 0, remote: 0 });
    });

    it('counts the delivered frames in the stats', async () => {
      await openAll({ a: '/ws/a', b: '/ws/b' });
      const before = (await request(`${shared.node.url}/api/admin/stats`, { headers: ADMIN })).body.counters.messages.delivered;
      await push(shared.node.url, { ...ALICE, message: 'x' });
      const after = (await request(`${shared.node.url}/api/admin/stats`, { headers: ADMIN })).body.counters.messages.delivered;
      expect(after - before).to.equal(2);
    });
  });

  describe('#pathFilter', () => {
    const PATHS = { a: '/ws/a', ab: '/ws/a/b', abc: '/ws/ab', c: '/ws/c' };

    it('reaches /ws/a and /ws/a/b, not /ws/ab, with /ws/a/*', async () => {
      expect(await reach(await openAll(PATHS), { pathFilter: '/ws/a/*' })).to.deep.include({ local: 2, reached: ['a', 'ab'] });
    });

    it('reaches only /ws/a with the exact filter /ws/a', async () => {
      expect(await reach(await openAll(PATHS), { pathFilter: '/ws/a' })).to.deep.include({ local: 1, reached: ['a'] });
    });

    it('reaches every socket with *', async () => {
      expect(await reach(await openAll(PATHS), { pathFilter: '*' })).to.deep.include({ local: 4, reached: ['a', 'ab', 'abc', 'c'] });
    });

    it('reaches every socket with a null filter and without one', async () => {
      const all = await openAll(PATHS);
      expect(await reach(all, { pathFilter: null })).to.deep.include({ local: 4, reached: ['a', 'ab', 'abc', 'c'] });
      for (const socket of Object.values(all)) socket.frames.length = 0;
      expect(await reach(all, {})).to.deep.include({ local: 4, reached: ['a', 'ab', 'abc', 'c'] });
    });

    it('reaches nothing with a filter no socket matches', async () => {
      expect(await reach(await openAll(PATHS), { pathFilter: '/ws/d/*' })).to.deep.include({ local: 0, reached: [] });
    });

    for (const filter of ['a', '/a/', '//a', '/a b', '', '/ws/*/a', 5, ['/ws/a'], { path: '/ws/a' }]) {
      it(`answers 400 ERR_INVALID_PATH_FILTER for ${JSON.stringify(filter)} and writes nothing`, async () => {
        const { tab } = await openAll({ tab: '/ws/a' });
        const sent = await push(shared.node.url, { ...ALICE, message: 'bad', pathFilter: filter });
        expect(sent.status).to.equal(400);
        expect(sent.body.error).to.equal('ERR_INVALID_PATH_FILTER');
        expect(sent.body.message).to.be.a('string');
        expect((await reach({ tab: tab! }, {})).reached).to.deep.equal(['tab']);
        expect(tab!.frames).to.deep.equal(['hello', END]);
      });
    }
  });

  describe('#sourceToken', () => {
    it('skips exactly the socket with that connection id', async () => {
      const all = await openAll({ self: '/ws/demo', other: '/ws/demo', third: '/ws/x' });
      expect(await reach(all, { sourceToken: 'self' })).to.deep.include({ local: 2, reached: ['other', 'third'] });
    });

    it('skips nothing when no socket has that id', async () => {
      const all = await openAll({ self: '/ws/demo', other: '/ws/demo' });
      expect(await reach(all, { sourceToken: 'gone' })).to.deep.include({ local: 2, reached: ['other', 'self'] });
    });

    it('combines with a path filter', async () => {
      const all = await openAll({ self: '/ws/a', other: '/ws/a/b', off: '/ws/c' });
      expect(await reach(all, { pathFilter: '/ws/a/*', sourceToken: 'self' })).to.deep.include({ local: 1, reached: ['other'] });
    });

    it("does not skip another user's socket with the same connection id", async () => {
      const bobs = await openAll({ self: '/ws/demo' }, shared.bob);
      const sent = await push(shared.node.url, { contextId: 1, userId: 4, message: 'to bob', sourceToken: 'other' });
      expect(sent.body.local).to.equal(1);
      expect(await bobs.self!.nextFrames(1)).to.deep.equal(['to bob']);
    });
  });

  describe('#authorization', () => {
    for (const [what, headers] of [
      ['without a token', {}],
      ['with a wrong token', { authorization: 'Bearer not-the-token' }],
      ['with an empty bearer token', { authorization: 'Bearer ' }],
      ['with the token under another scheme', { authorization: `Basic ${ADMIN.authorization.slice(7)}` }],
    ] as const) {
      it(`answers 401 ERR_ADMIN_AUTH with WWW-Authenticate ${what}`, async () => {
        const { tab } = await openAll({ tab: '/ws/demo' });
        const sent = await request(`${shared.node.url}/api/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ ...ALICE, message: 'sneaky' }),
        });
        expect(sent.status).to.equal(401);
        expect(sent.body.error).to.equal('ERR_ADMIN_AUTH');
        expect(sent.headers['www-authenticate']).to.match(/^Bearer realm=/);
        await reach({ tab: tab! }, {});
        expect(tab!.frames).to.deep.equal(['hello', END]);
      });
    }

    it('checks the token before the body: an invalid body without token is 401', async () => {
      const sent = await request(`${shared.node.url}/api/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      expect(sent.status).to.equal(401);
    });
  });

  describe('#body validation', () => {
    const base = { ...ALICE, message: 'm' };
    const cases: Array<[string, Record<string, unknown>]> = [
      ['a zero contextId', { ...base, contextId: 0 }],
      ['a negative contextId', { ...base, contextId: -1 }],
      ['a fractional contextId', { ...base, contextId: 1.5 }],
      ['a non-numeric contextId', { ...base, contextId: 'demo' }],
      ['a missing contextId', { userId: 3, message: 'm' }],
      ['a null userId', { ...base, userId: null }],
      ['an unsafe integer userId', { ...base, userId: 2 ** 53 }],
      ['a missing userId', { contextId: 1, message: 'm' }],
      ['a missing message', { ...ALICE }],
      ['a null message', { ...base, message: null }],
      ['a numeric message', { ...base, message: 5 }],
      ['a boolean message', { ...base, message: true }],
      ['a numeric sourceToken', { ...base, sourceToken: 5 }],
      ['a sourceToken with a space', { ...base, sourceToken: 'a b' }],
      ['a 65-character sourceToken', { ...base, sourceToken: 's'.repeat(65) }],
      ['an empty sourceToken', { ...base, sourceToken: '' }],
    ];
    for (const [what, body] of cases) {
      it(`answers 400 ERR_BAD_REQUEST for ${what}`, async () => {
        const sent = await push(shared.node.url, body);
        expect(sent.status).to.equal(400);
        expect(sent.body.error).to.equal('ERR_BAD_REQUEST');
        expect(sent.body.message).to.be.a('string').that.is.not.empty;
      });
    }

    for (const [what, text] of [
      ['a body that is not JSON', '{"contextId": 1,'],
      ['a JSON array', '[1, 3, "m"]'],
    ] as const) {
      it(`answers 400 ERR_BAD_REQUEST for ${what}`, async () => {
        const sent = await request(`${shared.node.url}/api/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: text });
        expect(sent.status).to.equal(400);
        expect(sent.body.error).to.equal('ERR_BAD_REQUEST');
      });
    }

    it('answers 415 for a body that is not application/json', async () => {
      const sent = await request(`${shared.node.url}/api/push`, { method: 'POST', headers: { 'content-type': 'text/plain', ...ADMIN }, body: JSON.stringify(base) });
      expect(sent.status).to.equal(415);
      expect(sent.body.error).to.equal('ERR_UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 ERR_PAYLOAD_TOO_LARGE over 1 MiB and writes nothing', async () => {
      const { tab } = await openAll({ tab: '/ws/demo' });
      const sent = await push(shared.node.url, { ...ALICE, message: 'x'.repeat(1024 * 1024) });
      expect(sent.status).to.equal(413);
      expect(sent.body.error).to.equal('ERR_PAYLOAD_TOO_LARGE');
      await reach({ tab: tab! }, {});
      expect(tab!.frames).to.deep.equal(['hello', END]);
    });

    it('accepts a message just under 1 MiB', async () => {
      const { tab } = await openAll({ tab: '/ws/demo' });
      const message = 'y'.repeat(1024 * 1024 - 100);
      const sent = await push(shared.node.url, { ...ALICE, message });
      expect(sent.status).to.equal(202);
      expect((await tab!.nextFrames(1))[0]).to.have.length(message.length);
    });

    it('answers 405 with Allow: POST for GET /api/push', async () => {
      const answer = await request(`${shared.node.url}/api/push`, { headers: ADMIN });
      expect(answer.status).to.equal(405);
      expect(answer.headers.allow).to.equal('POST');
    });
  });
});

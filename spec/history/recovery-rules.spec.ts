/**
 * Recovery's rules on one node (its history in memory; the cluster suites run the same
 * code over the broker): the first frame says whether the gap is covered, beyond the
 * window or past the ring it says recovered:false, and bad offsets are refused with a
 * clear error, or, for Socket.IO, which cannot be refused mid-protocol, answered with
 * a fresh stream. Real node, real ws and socket.io clients.
 */
import { expect } from 'chai';
import { io } from 'socket.io-client';
import { eventually, login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';

const ALICE = { contextId: 1, userId: 3 };

function envelope(frame: string): Record<string, unknown> {
  return JSON.parse(frame) as Record<string, unknown>;
}

describe('recovery rules (one node)', function () {
  this.timeout(20_000);
  let node: TestNode;
  let auth: Login;
  const sockets: TestSocket[] = [];

  async function start(flags: string[] = []): Promise<void> {
    node = await startNode(flags);
    auth = await login(node.url);
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await node?.stop();
  });

  async function open(query: Record<string, string>): Promise<TestSocket> {
    const socket = await openSocket(node.wsUrl, auth, '/ws/demo', query);
    sockets.push(socket);
    return socket;
  }

  async function pushAll(messages: string[]): Promise<void> {
    for (const message of messages) expect((await push(node.url, { ...ALICE, message })).status).to.equal(202);
  }

  /** Opens an envelope socket, takes `messages`, closes it; returns the last offset. */
  async function receiveThenLeave(messages: string[]): Promise<string> {
    const socket = await open({ envelope: '1' });
    await socket.nextFrames(1);
    await pushAll(messages);
    const frames = await socket.nextFrames(1 + messages.length);
    socket.close();
    await eventually(() => node.node.service.localCount() === 0, 'the socket to be gone');
    return envelope(frames.at(-1)!).offset as string;
  }

  it('keeps the raw protocol as it was without envelope=1: frames are the messages', async () => {
    await start();
    const socket = await open({});
    await pushAll(['plain']);
    expect(await socket.nextFrames(1)).to.deep.equal(['plain']);
  });

  it('begins an envelope stream with its offset, and gives each frame id, offset and message', async () => {
    await start();
    const socket = await open({ envelope: '1' });
    await pushAll(['one']);
    const [first, second] = (await socket.nextFrames(2)).map(envelope);
    expect(first).to.have.keys('type', 'offset').and.include({ type: 'stream' });
    expect(second).to.have.keys('id', 'offset', 'message').and.include({ message: 'one' });
    expect(second.offset).to.be.a('string').and.not.equal(first.offset);
  });

  it('recovers what was pushed while the client was away: recovered:true, missed N, then the live ones', async () => {
    await start();
    const offset = await receiveThenLeave(['a1', 'a2']);
    await pushAll(['gone-1', 'gone-2', 'gone-3']);
    const socket = await open({ envelope: '1', since: offset });
    await pushAll(['live']);
    const frames = (await socket.nextFrames(5)).map(envelope);
    expect(frames[0]).to.include({ type: 'recovery', recovered: true, missed: 3 });
    expect(frames.slice(1).map((f) => f.message)).to.deep.equal(['gone-1', 'gone-2', 'gone-3', 'live']);
    console.log(`      recovered 3 missed, then 1 live; first frame ${JSON.stringify(frames[0])}`);
  });

  it('says recovered:false when the ring no longer holds the gap (websockets.history.size)', async () => {
    await start(['--websockets.history.size', '3']);
    const offset = await receiveThenLeave(['a1']);
    await pushAll(['g1', 'g2', 'g3', 'g4']);
    const socket = await open({ envelope: '1', since: offset });
    await pushAll(['live']);
    const frames = (await socket.nextFrames(2)).map(envelope);
    expect(frames[0]).to.deep.include({ type: 'recovery', recovered: false });
    expect(frames[0]).to.not.have.property('missed');
    expect(frames[1]).to.include({ message: 'live' });
  });

  it('says recovered:false beyond the window (websockets.history.ttl)', async () => {
    await start(['--websockets.history.ttl', '1000']);
    const offset = await receiveThenLeave(['a1']);
    await pushAll(['g1']);
    // The window is what is tested: the client comes back after it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const socket = await open({ envelope: '1', since: offset });
    expect(envelope((await socket.nextFrames(1))[0])).to.deep.include({ type: 'recovery', recovered: false });
  });

  it('says recovered:false with history off (size 0), and frames carry no offset', async () => {
    await start(['--websockets.history.size', '0']);
    const offset = await receiveThenLeave(['a1']);
    expect(offset).to.equal(null);
    const socket = await open({ envelope: '1', since: '1.mx9m5wdy' });
    expect(envelope((await socket.nextFrames(1))[0])).to.deep.include({ type: 'recovery', recovered: false });
  });

  for (const [what, query, error] of [
    ['since without envelope=1', { since: '1.mx9m5wdy' }, 'ERR_INVALID_SINCE'],
    ['a since that is not an offset', { envelope: '1', since: 'not-an-offset' }, 'ERR_INVALID_SINCE'],
    ['an overlong since', { envelope: '1', since: `1.${'a'.repeat(5000)}` }, 'ERR_INVALID_SINCE'],
    ['envelope=2', { envelope: '2' }, 'ERR_BAD_REQUEST'],
  ] as const) {
    it(`refuses ${what} with 400 ${error}, and leaves nothing behind`, async () => {
      await start();
      const refused = await openSocket(node.wsUrl, auth, '/ws/demo', query as Record<string, string>).then(
        () => undefined,
        (error: { status: number; body: { error: string; message: string } }) => error,
      );
      expect(refused?.status).to.equal(400);
      expect(refused?.body.error).to.equal(error);
      expect(refused?.body.message).to.be.a('string').and.not.equal('');
      expect(node.node.service.localCount()).to.equal(0);
    });
  }

  it('Socket.IO: a junk offset or pid recovers nothing and the client goes on, recovered false', async () => {
    await start();
    const socket = io(node.url, {
      path: '/socket.io/appsuite',
      transports: ['websocket'],
      query: { session: auth.session, connection: 'sio-junk' },
      extraHeaders: { cookie: auth.cookie },
      forceNew: true,
      reconnection: false,
    });
    // What a client would send back after a reconnect, but junk.
    (socket as unknown as { _pid: string; _lastOffset: string })._pid = 'junk~not-an-offset';
    (socket as unknown as { _lastOffset: string })._lastOffset = '1.!!';
    const events: unknown[][] = [];
    socket.on('message', (...args: unknown[]) => events.push(args));
    try {
      await eventually(() => socket.connected, 'the connect', 5000);
      expect(socket.recovered).to.equal(false);
      await pushAll(['after']);
      await eventually(() => events.length === 1, 'the event');
      expect(events[0][0]).to.equal('after');
      expect(events[0][1]).to.be.a('string'); // the offset, as Socket.IO's own server appends it
    } finally {
      socket.close();
    }
  });

  it('Socket.IO with history off: no pid, so the client never tries to recover (events carry no offset)', async () => {
    await start(['--websockets.history.size', '0']);
    const socket = io(node.url, { path: '/socket.io/appsuite', transports: ['websocket'], query: { session: auth.session, connection: 'sio-off' }, extraHeaders: { cookie: auth.cookie }, forceNew: true, reconnection: false });
    const events: unknown[][] = [];
    socket.on('message', (...args: unknown[]) => events.push(args));
    try {
      await eventually(() => socket.connected, 'the connect', 5000);
      expect((socket as unknown as { _pid?: string })._pid).to.equal(undefined);
      await pushAll(['plain']);
      await eventually(() => events.length === 1, 'the event');
      expect(events[0]).to.deep.equal(['plain']);
    } finally {
      socket.close();
    }
  });
});

/**
 * A peer that ends its side of an open socket (a TCP FIN without a close frame: a cut
 * connection, a proxy in front dropping its connections) has its socket closed by the
 * node, through the admission queue (http/upgrade.ts, closeOnPeerEnd): the descriptor
 * is released, the actor closes with 1006, and nothing written meanwhile throws.
 * Real ws clients; the FIN is sent on the TCP socket under them.
 */
import type { Duplex } from 'node:stream';
import { expect } from 'chai';
import { eventually, login, openSocket, push, tcpOf, type Login, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { untilLocalSockets } from './support/http.ts';

const MANY = 200;

/** Resolves once the node closed the connection: the client's TCP socket saw the node's FIN and closed. */
function closedByNode(tcp: Duplex): Promise<void> {
  return new Promise((resolve) => {
    if (tcp.destroyed) return resolve();
    tcp.once('close', () => resolve());
  });
}

describe('http peer end', () => {
  let node: TestNode;
  let alice: Login;
  const logs: string[] = [];
  const open: TestSocket[] = [];

  before(async () => {
    node = await startNode(['--websockets.maxSocketsPerUser', String(MANY + 10)], { logs });
    alice = await login(node.url);
  });
  afterEach(async () => {
    for (const socket of open.splice(0)) socket.close();
    await untilLocalSockets(node, 0);
  });
  after(async () => node?.stop());

  function closeLines(): any[] {
    return logs.map((line) => JSON.parse(line)).filter((entry) => entry.event === 'ws.closed');
  }

  it('closes a socket whose peer sent its FIN, and logs 1006 by the client', async () => {
    const socket = await openSocket(node.wsUrl, alice, '/ws/demo', { connection: 'fin' });
    open.push(socket);
    const tcp = tcpOf(socket);
    const released = closedByNode(tcp);
    tcp.end();
    await released;
    await untilLocalSockets(node, 0);
    const line = closeLines().find((entry) => entry.connectionId === 'fin');
    expect({ code: line.code, by: line.by }).to.deep.equal({ code: 1006, by: 'client' });
    expect(await socket.closedWith()).to.equal(1006);
  });

  it(`releases ${MANY} sockets ended at once, with a push to their user in between, and leaves nothing open`, async () => {
    const before = closeLines().length;
    const sockets = await Promise.all(Array.from({ length: MANY }, (_, i) => openSocket(node.wsUrl, alice, '/ws/demo', { connection: `many-${i}` })));
    open.push(...sockets);
    await untilLocalSockets(node, MANY);
    const tcps = sockets.map(tcpOf);
    const released = Promise.all(tcps.map(closedByNode));
    for (const tcp of tcps) tcp.end();
    // While the closes wait for their turn the actors are still open: a push writes to
    // sockets the node has not closed yet, and must neither throw nor keep one open.
    const accepted = await push(node.url, { contextId: 1, userId: 3, message: 'while closing' });
    expect(accepted.status).to.equal(202);
    await released;
    await untilLocalSockets(node, 0);
    await eventually(() => closeLines().length - before === MANY, `${MANY} close lines (have ${closeLines().length - before})`);
    const codes = new Set(closeLines().slice(before).map((entry) => `${entry.code} by ${entry.by}`));
    console.log(`      ${MANY} peers ended at once: ${MANY} closed by the node, close lines ${[...codes].join(', ')}, admission queue ${node.node['admission'].length}`);
    expect([...codes]).to.deep.equal(['1006 by client']);
    expect(node.node['admission'].length).to.equal(0);
  });
});

/**
 * Inputs the fuzz targets found, minimised (spec/fuzz/fuzz.spec.ts), each replayed
 * here against a real node so the fix stays. Each names the target that found it.
 */
import { expect } from 'chai';
import { connectionEnded } from '../../src/actors/connection-log.ts';
import type { ConnectionActor } from '../../src/actors/connection.machine.ts';
import { NodeStats } from '../../src/delivery/stats.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { openSockets } from './support/oracle.ts';
import { readBody, sendUpgrade } from './support/raw-ws.ts';
import { startFuzzNode, type FuzzNode } from './support/standalone.ts';

/** Writes `request` on raw TCP; the answer's status and its JSON body. */
async function raw(node: FuzzNode, request: string): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const answer = await sendUpgrade(node.port, Buffer.from(request, 'latin1'));
  const body = await readBody(answer);
  answer.socket.destroy();
  return { status: answer.status, body: JSON.parse(body.toString('utf8')) };
}

const upgradeHeaders = (node: FuzzNode, extra: string[]) =>
  [`GET /ws?session=${node.auth.session}&connection=${node.connectionId()} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', `Cookie: ${node.auth.cookie}`, ...extra, '', ''].join('\r\n');

describe('fuzz regressions', () => {
  let node: FuzzNode;
  before(async () => {
    node = await startFuzzNode();
  });
  after(() => node?.stop());

  it('answers an HTTP/1.1 request without Host with 400 ERR_BAD_REQUEST in JSON (upgrade target: `OPTIONS / HTTP/1.1`)', async () => {
    const answer = await raw(node, 'OPTIONS / HTTP/1.1\r\n\r\n');
    expect(answer).to.deep.equal({ status: 400, body: { error: 'ERR_BAD_REQUEST', message: 'An HTTP/1.1 request needs a Host header' } });
  });

  it('answers a request line the HTTP parser refuses with 400 ERR_BAD_REQUEST in JSON (upgrade target: `G\\0T /ws`)', async () => {
    const answer = await raw(node, 'G\u0000T /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(answer.status).to.equal(400);
    expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
  });

  it('answers headers over 16 KiB with 431 ERR_HEADERS_TOO_LARGE in JSON (http, engine-io, upgrade targets: a long query)', async () => {
    const answer = await raw(node, `GET /healthz?x=${'%F0%9F%98%80'.repeat(1400)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(answer).to.deep.equal({ status: 431, body: { error: 'ERR_HEADERS_TOO_LARGE', message: 'The request line or headers are too large' } });
  });

  it('refuses a blank Sec-WebSocket-Protocol with 400 ERR_BAD_REQUEST in JSON, and leaves no socket counted open (upgrade target)', async () => {
    const answer = await raw(node, upgradeHeaders(node, ['Sec-WebSocket-Protocol:  ']));
    expect(answer.status).to.equal(400);
    expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
    expect(await openSockets(node.test.url)).to.equal(0);
  });

  it('refuses a subprotocol named twice (the header sent twice) with 400 ERR_BAD_REQUEST in JSON (upgrade target, seed 4242)', async () => {
    const answer = await raw(node, upgradeHeaders(node, ['Sec-WebSocket-Protocol: 99', 'Sec-WebSocket-Protocol: 99']));
    expect(answer.status).to.equal(400);
    expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
    expect(await openSockets(node.test.url)).to.equal(0);
  });

  it('counts a socket refused after its admission as gone from wsmesh_sockets_open (upgrade target: 12 left counted open)', () => {
    const stats = new NodeStats();
    stats.socketAdmitted('/ws');
    const handle = { connectionId: 'c', contextId: 1, userId: 3, sessionId: 's', path: '/ws/x', prefix: '/ws', remoteAddress: '127.0.0.1', connectedAt: 0, actor: {} as ConnectionActor };
    connectionEnded(stats, silentLogger, { connectionId: 'c', rejection: 'ERR_BAD_REQUEST', code: 0, reason: 'ERR_BAD_REQUEST', by: 'rejected', durationMs: 0, sent: 0, received: 0 }, handle);
    expect(stats.socketsByPrefix.get('/ws')).to.equal(0);
  });
});

/**
 * The origin check compares schemes, not only hosts: `Origin: https://host` on a
 * plain-HTTP request is another origin, unless a trusted proxy says the client
 * spoke https. Every combination is tried on real nodes, over raw and Socket.IO
 * upgrades, and the outcomes are counted.
 */
import { expect } from 'chai';
import type { Context } from 'koa';
import { requestedScheme, type ProxySettings } from '../../src/http/client-address.ts';
import { login, type Login } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { as, expectRefusal, OTHER_LOOPBACK, SocketPool, untilLocalSockets } from './support/http.ts';

interface Case {
  what: string;
  origin: 'http' | 'https';
  headers?: Record<string, string>;
  /** The peer's address: the loopback the trusted proxy has, or another one. */
  from?: string;
  accepted: boolean;
}

const PATHS: Array<{ path: string; query: Record<string, string> }> = [
  { path: '/ws/demo', query: {} },
  { path: '/socket.io/appsuite', query: { EIO: '4', transport: 'websocket' } },
];

/** Tries every case on every path; answers the outcomes, one per case and path. */
async function tryAll(node: TestNode, sockets: SocketPool, alice: Login, cases: Case[]): Promise<{ accepted: number; refused: number; wrong: string[] }> {
  const host = new URL(node.url).host;
  const tally = { accepted: 0, refused: 0, wrong: [] as string[] };
  for (const { path, query } of PATHS) {
    for (const c of cases) {
      const request = as(alice, { path, query, headers: { origin: `${c.origin}://${host}`, ...c.headers }, localAddress: c.from });
      const label = `${path}: ${c.what}`;
      if (c.accepted) {
        try {
          await sockets.open(request);
          tally.accepted++;
        } catch (error) {
          tally.wrong.push(`${label}: expected 101, ${(error as Error).message}`);
        }
      } else {
        try {
          const refusal = await sockets.refused(request);
          expectRefusal(refusal, 403, 'ERR_ORIGIN_DENIED');
          tally.refused++;
        } catch (error) {
          tally.wrong.push(`${label}: expected 403 ERR_ORIGIN_DENIED, ${(error as Error).message}`);
        }
      }
      sockets.terminateAll();
      await untilLocalSockets(node, 0);
    }
  }
  return tally;
}

describe('http origin scheme', () => {
  describe('on a plain-HTTP node without a trusted proxy', () => {
    let node: TestNode;
    let alice: Login;
    const sockets = new SocketPool(() => node.wsUrl);

    before(async () => {
      node = await startNode(['--session.ipCheck', 'false']);
      alice = await login(node.url);
    });
    afterEach(() => sockets.terminateAll());
    after(async () => node?.stop());

    it('accepts an http Origin of its host and refuses an https one, whatever forwarded headers the client sends', async () => {
      const cases: Case[] = [
        { what: 'http Origin', origin: 'http', accepted: true },
        { what: 'https Origin', origin: 'https', accepted: false },
        { what: 'https Origin with X-Forwarded-Proto: https', origin: 'https', headers: { 'x-forwarded-proto': 'https' }, accepted: false },
        { what: 'https Origin with Forwarded: proto=https', origin: 'https', headers: { forwarded: 'for=1.2.3.4;proto=https' }, accepted: false },
        { what: 'http Origin with X-Forwarded-Proto: https (ignored)', origin: 'http', headers: { 'x-forwarded-proto': 'https' }, accepted: true },
      ];
      const tally = await tryAll(node, sockets, alice, cases);
      console.log(`      origin scheme, no proxy: ${cases.length * PATHS.length} upgrades, ${tally.accepted} accepted, ${tally.refused} refused, ${tally.wrong.length} wrong`);
      expect(tally.wrong).to.deep.equal([]);
      expect(tally).to.include({ accepted: 4, refused: 6 });
    });
  });

  describe('behind a trusted proxy (server.trustProxy, server.trustedProxies = 127.0.0.1)', () => {
    let node: TestNode;
    let alice: Login;
    const sockets = new SocketPool(() => node.wsUrl);

    before(async () => {
      node = await startNode(['--session.ipCheck', 'false', '--trust-proxy', '--server.trustedProxies', '127.0.0.1']);
      alice = await login(node.url);
    });
    afterEach(() => sockets.terminateAll());
    after(async () => node?.stop());

    it('takes the scheme from the trusted proxy only, and requires the Origin to match it', async () => {
      const https = { 'x-forwarded-proto': 'https' };
      const cases: Case[] = [
        { what: 'https Origin, proxy says https', origin: 'https', headers: https, accepted: true },
        { what: 'https Origin, proxy says HTTPS', origin: 'https', headers: { 'x-forwarded-proto': 'HTTPS' }, accepted: true },
        { what: 'https Origin, proxy says Forwarded proto=https', origin: 'https', headers: { forwarded: 'for=1.2.3.4;proto=https' }, accepted: true },
        { what: 'http Origin, proxy says https', origin: 'http', headers: https, accepted: false },
        { what: 'https Origin, proxy says http', origin: 'https', headers: { 'x-forwarded-proto': 'http' }, accepted: false },
        { what: 'https Origin, proxy says nothing', origin: 'https', accepted: false },
        { what: 'http Origin, proxy says nothing', origin: 'http', accepted: true },
        // The nearest proxy's entry is the right-most: a client-written "https" before it is not believed.
        { what: 'https Origin, client wrote https before the proxy\'s http', origin: 'https', headers: { 'x-forwarded-proto': 'https, http' }, accepted: false },
        { what: 'https Origin, proxy says a scheme that is neither', origin: 'https', headers: { 'x-forwarded-proto': 'gopher' }, accepted: false },
        { what: 'https Origin, X-Forwarded-Proto https from an untrusted peer', origin: 'https', headers: https, from: OTHER_LOOPBACK, accepted: false },
        { what: 'https Origin, Forwarded proto=https from an untrusted peer', origin: 'https', headers: { forwarded: 'proto=https' }, from: OTHER_LOOPBACK, accepted: false },
        { what: 'http Origin from an untrusted peer claiming https', origin: 'http', headers: https, from: OTHER_LOOPBACK, accepted: true },
      ];
      const tally = await tryAll(node, sockets, alice, cases);
      console.log(`      origin scheme, trusted proxy: ${cases.length * PATHS.length} upgrades, ${tally.accepted} accepted, ${tally.refused} refused, ${tally.wrong.length} wrong`);
      expect(tally.wrong).to.deep.equal([]);
      expect(tally).to.include({ accepted: 10, refused: 14 });
    });
  });

  describe('#requestedScheme', () => {
    function ctx(peer: string, headers: Record<string, string>, encrypted = false): Context {
      return { req: { socket: { remoteAddress: peer, encrypted } }, get: (name: string) => headers[name.toLowerCase()] ?? '' } as unknown as Context;
    }
    const trusted: ProxySettings = { trustProxy: true, proxyHops: 1, trustedProxies: ['10.0.0.9'] };
    const table: Array<[string, Context, ProxySettings | undefined, string]> = [
      ['https for a TLS socket, whatever the headers', ctx('6.6.6.6', { 'x-forwarded-proto': 'http' }, true), undefined, 'https'],
      ['http for a plain socket without proxy settings', ctx('10.0.0.9', { 'x-forwarded-proto': 'https' }), undefined, 'http'],
      ['https from a trusted proxy saying so', ctx('10.0.0.9', { 'x-forwarded-proto': 'https' }), trusted, 'https'],
      ['http from a peer that is not a trusted proxy', ctx('6.6.6.6', { 'x-forwarded-proto': 'https' }), trusted, 'http'],
      ['the quoted proto of Forwarded', ctx('10.0.0.9', { forwarded: 'for="[::1]";proto="https"' }), trusted, 'https'],
      ['the nearest Forwarded element, not a client-written one', ctx('10.0.0.9', { forwarded: 'proto=https, for=1.2.3.4;proto=http' }), trusted, 'http'],
      ['X-Forwarded-Proto before Forwarded', ctx('10.0.0.9', { 'x-forwarded-proto': 'http', forwarded: 'proto=https' }), trusted, 'http'],
      ['http for an unknown scheme', ctx('10.0.0.9', { 'x-forwarded-proto': 'wss' }), trusted, 'http'],
    ];
    for (const [name, context, proxy, expected] of table) {
      it(`answers ${name}`, () => expect(requestedScheme(context, proxy)).to.equal(expected));
    }
  });
});

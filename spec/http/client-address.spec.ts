import { expect } from 'chai';
import type { Context } from 'koa';
import { requestedHost, resolveClientAddress } from '../../src/http/client-address.ts';

function ctx(peer: string, xff?: string, xfh?: string): Context {
  const headers: Record<string, string | undefined> = { 'X-Forwarded-For': xff, 'X-Forwarded-Host': xfh };
  return { req: { socket: { remoteAddress: peer } }, host: 'node-1:8009', get: (name: string) => headers[name] ?? '' } as unknown as Context;
}

describe('resolveClientAddress', () => {
  const table: Array<[string, string, string | undefined, { trustProxy: boolean; proxyHops: number } | undefined, string]> = [
    ['the peer without a proxy setting', '10.0.0.9', '1.2.3.4', undefined, '10.0.0.9'],
    ['the peer when trustProxy is off, ignoring the header', '10.0.0.9', '1.2.3.4', { trustProxy: false, proxyHops: 1 }, '10.0.0.9'],
    ['the entry the one trusted proxy added', '10.0.0.9', '1.2.3.4', { trustProxy: true, proxyHops: 1 }, '1.2.3.4'],
    ['the right-most entry, not a client-sent prefix (no spoofing)', '10.0.0.9', '6.6.6.6, 1.2.3.4', { trustProxy: true, proxyHops: 1 }, '1.2.3.4'],
    ['the entry two hops from the right behind two proxies', '10.0.0.9', '6.6.6.6, 1.2.3.4, 10.0.0.5', { trustProxy: true, proxyHops: 2 }, '1.2.3.4'],
    ['the left-most entry when there are fewer entries than hops', '10.0.0.9', '1.2.3.4', { trustProxy: true, proxyHops: 3 }, '1.2.3.4'],
    ['the peer when the header is absent', '10.0.0.9', undefined, { trustProxy: true, proxyHops: 1 }, '10.0.0.9'],
    ['IPv4 for an IPv4-mapped IPv6 peer', '::ffff:127.0.0.1', undefined, undefined, '127.0.0.1'],
    ['IPv6 as is', '::1', undefined, undefined, '::1'],
  ];
  for (const [name, peer, xff, proxy, expected] of table) {
    it(`answers ${name}`, () => expect(resolveClientAddress(ctx(peer, xff), proxy)).to.equal(expected));
  }
});

describe('resolveClientAddress with server.trustedProxies', () => {
  const proxy = { trustProxy: true, proxyHops: 1, trustedProxies: ['10.0.0.9'] };
  it('believes X-Forwarded-For from a listed proxy', () => expect(resolveClientAddress(ctx('10.0.0.9', '1.2.3.4'), proxy)).to.equal('1.2.3.4'));
  it('ignores it from any other peer (a client reaching the node directly)', () => expect(resolveClientAddress(ctx('6.6.6.6', '1.2.3.4'), proxy)).to.equal('6.6.6.6'));
});

describe('requestedHost', () => {
  it('is the Host header without a proxy setting', () => expect(requestedHost(ctx('10.0.0.9', undefined, 'app.example'))).to.equal('node-1:8009'));
  it('is X-Forwarded-Host behind a trusted proxy that rewrote Host', () =>
    expect(requestedHost(ctx('10.0.0.9', undefined, 'app.example'), { trustProxy: true, proxyHops: 1 })).to.equal('app.example'));
  it('takes the entry the nearest proxy added, not a client-sent prefix', () =>
    expect(requestedHost(ctx('10.0.0.9', undefined, 'evil.example, app.example'), { trustProxy: true, proxyHops: 1 })).to.equal('app.example'));
  it('falls back to Host when the proxy sent no X-Forwarded-Host', () => expect(requestedHost(ctx('10.0.0.9'), { trustProxy: true, proxyHops: 1 })).to.equal('node-1:8009'));
});

import { expect } from 'chai';
import { proxyRequestBody, type UpgradeRequest } from '../../src/auth/proxy-request.ts';

function request(more: Partial<UpgradeRequest> = {}): UpgradeRequest {
  return { path: '/ws', query: {}, clientAddress: '::1', headers: {}, ...more };
}

describe('proxyRequestBody', () => {
  it('copies path, query and client address, with origin null when absent', () => {
    expect(proxyRequestBody(request({ query: { a: '1' } }), [])).to.deep.equal({ path: '/ws', query: { a: '1' }, clientAddress: '::1', origin: null, headers: {} });
  });

  it('keeps the origin when present', () => {
    expect(proxyRequestBody(request({ origin: 'https://app.example' }), []).origin).to.equal('https://app.example');
  });

  it('passes on only the named headers the upgrade carried, lower-cased, once each', () => {
    const headers = { cookie: 'a=1', Authorization: 'Bearer t', host: 'h', 'x-empty': '', 'x-absent': undefined };
    const body = proxyRequestBody(request({ headers }), ['Cookie', 'authorization', 'COOKIE', 'x-empty', 'x-absent', 'user-agent']);
    expect(body.headers).to.deep.equal({ cookie: 'a=1', authorization: 'Bearer t', 'x-empty': '' });
  });

  it('combines repeated fields: ", " in general, "; " for cookies', () => {
    const body = proxyRequestBody(request({ headers: { 'x-tag': ['a', 'b'], cookie: ['a=1', 'b=2'] } }), ['x-tag', 'cookie']);
    expect(body.headers).to.deep.equal({ 'x-tag': 'a, b', cookie: 'a=1; b=2' });
  });

  it('keeps a __proto__ query parameter as a plain key', () => {
    const query = JSON.parse('{"__proto__": "x", "a": "1"}') as Record<string, string>;
    const body = proxyRequestBody(request({ query }), []);
    expect(Object.getPrototypeOf(body.query)).to.equal(Object.prototype);
    expect(JSON.stringify(body.query)).to.equal('{"__proto__":"x","a":"1"}');
  });

  it('does not share the query object with the caller', () => {
    const query = { a: '1' };
    const body = proxyRequestBody(request({ query }), []);
    query.a = '2';
    expect(body.query).to.deep.equal({ a: '1' });
  });
});

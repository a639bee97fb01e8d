/**
 * Tokens signed by asymmetric keys, end to end on a real node: RS256 and ES256 keys
 * published by a real JWKS endpoint started here, a key rotation (a new kid is
 * fetched and accepted, an old one still listed keeps working), a public key file,
 * and the algorithm confusion attack (an HS256 token keyed with the public key).
 */
import { expect } from 'chai';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { TestSocket } from '../support/client.ts';
import { startJwksServer, type JwksServer } from '../support/jwks-server.ts';
import { startNode, tempDir, type TestNode } from '../support/node.ts';

async function pair(alg: 'RS256' | 'ES256', kid: string): Promise<{ alg: string; kid: string; privateKey: CryptoKey; jwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function sign(key: { alg: string; kid?: string; privateKey: CryptoKey | Uint8Array }, claims: Record<string, unknown> = { sub: '3', ctx: 1 }): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, ...(key.kid ? { kid: key.kid } : {}) })
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

async function outcome(n: TestNode, token: string): Promise<string> {
  const socket = new TestSocket(`${n.wsUrl}/ws/app?token=${token}`);
  try {
    await socket.opened();
    return 'opened';
  } catch (err) {
    return `${(err as { status: number }).status} ${(err as { body: { error: string } }).body.error}`;
  } finally {
    socket.close();
  }
}

describe('JWT with asymmetric keys on a real node', function () {
  this.timeout(30000);
  let node: TestNode | undefined;
  let jwks: JwksServer | undefined;
  const dir = tempDir();
  afterEach(async () => {
    await node?.stop();
    await jwks?.close();
    node = jwks = undefined;
  });
  after(() => dir.cleanup());

  it('accepts RS256 and ES256 tokens from the JWKS, fetches a rotated kid, keeps an old one while listed', async () => {
    const [rsa, ec, next] = await Promise.all([pair('RS256', 'rsa-1'), pair('ES256', 'ec-1'), pair('ES256', 'ec-2')]);
    jwks = await startJwksServer([rsa.jwk, ec.jwk]);
    node = await startNode(['--auth.jwt.jwksUrl', jwks.url]);
    expect(await outcome(node, await sign(rsa))).to.equal('opened');
    expect(await outcome(node, await sign(ec))).to.equal('opened');
    const before = jwks.requests;
    // The issuer rotates: a new key is listed beside the old ones. Within 30 s of the
    // last fetch the node does not fetch again (auth.jwt.jwksUrl's pause): refused.
    jwks.keys = [rsa.jwk, ec.jwk, next.jwk];
    expect(await outcome(node, await sign(next))).to.equal('403 ERR_TOKEN_INVALID');
    expect(jwks.requests).to.equal(before);
    // 31 s later (jose reads Date.now for its pause; the node's own timers are not involved).
    const realNow = Date.now;
    Date.now = () => realNow() + 31_000;
    try {
      expect(await outcome(node, await sign(next))).to.equal('opened');
    } finally {
      Date.now = realNow;
    }
    expect(jwks.requests).to.equal(before + 1);
    expect(await outcome(node, await sign(ec))).to.equal('opened');
    // A kid nobody lists (within the 30 s refetch pause): refused as invalid, no storm of fetches.
    const stranger = await pair('ES256', 'ec-unknown');
    expect(await outcome(node, await sign(stranger))).to.equal('403 ERR_TOKEN_INVALID');
    expect(await outcome(node, await sign(stranger))).to.equal('403 ERR_TOKEN_INVALID');
    expect(jwks.requests).to.be.at.most(before + 2);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).to.match(/wsmesh_auth_jwks_fetches_total\{result="ok"\} [1-9]/);
  });

  it('answers 503 ERR_AUTH_UNAVAILABLE when the JWKS endpoint is down', async () => {
    const rsa = await pair('RS256', 'rsa-1');
    jwks = await startJwksServer([rsa.jwk]);
    node = await startNode(['--auth.jwt.jwksUrl', jwks.url]);
    await jwks.close();
    const socket = new TestSocket(`${node.wsUrl}/ws/app?token=${await sign(rsa)}`);
    const refused = await socket.opened().then(
      () => expect.fail('opened'),
      (err: { status: number; body: { error: string; message: string }; headers: Record<string, string> }) => err,
    );
    socket.close();
    expect([refused.status, refused.body.error, refused.headers['retry-after']]).to.deep.equal([503, 'ERR_AUTH_UNAVAILABLE', '1']);
    // Why the keys could not be had is the operator's business (logged), not the client's.
    expect(refused.body.message).to.equal("The application's authentication did not answer usably; retry later");
  });

  it('verifies with a public key file, and refuses an HS256 token keyed with that public key (algorithm confusion)', async () => {
    const rsa = await pair('RS256', 'rsa-1');
    // The node trusts the RSA key of `rsa`.
    const trusted = await exportSPKI(await importPublic(rsa.jwk));
    const file = dir.file('rsa.pem', trusted);
    node = await startNode(['--auth.jwt.publicKeyFile', file]);
    expect(await outcome(node, await sign({ alg: 'RS256', privateKey: rsa.privateKey }))).to.equal('opened');
    const confused = await sign({ alg: 'HS256', privateKey: new TextEncoder().encode(trusted) });
    expect(await outcome(node, confused)).to.equal('403 ERR_TOKEN_INVALID');
    const other = await pair('RS256', 'rsa-2');
    expect(await outcome(node, await sign({ alg: 'RS256', privateKey: other.privateKey }))).to.equal('403 ERR_TOKEN_INVALID');
  });
});

async function importPublic(jwk: JWK): Promise<CryptoKey> {
  return (await importJWK(jwk, jwk.alg)) as CryptoKey;
}

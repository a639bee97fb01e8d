/**
 * The JWT verifier with a shared secret and with a PEM public key: what it accepts,
 * the identity it gives, and every attack refused with a reason that quotes no token.
 * The JWKS key source is in spec/auth/jwks.spec.ts.
 */
import { expect } from 'chai';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, generateKeyPair, SignJWT } from 'jose';
import { createJwtVerifier, type JwtVerifier } from '../../src/auth/jwt.ts';
import { createLogger } from '../../src/log/logger.ts';
import { b64url, claims, expectAccepted, expectRefused, handMade, jwtSettings, now, NOW_S, sign } from '../support/jwt-tokens.ts';

const SECRET = randomBytes(32).toString('hex');
const secretBytes = new TextEncoder().encode(SECRET);

interface Pair {
  /** A key object, not a CryptoKey: one RSA key signs both RS256 and PS256. */
  privateKey: KeyObject;
  file: string;
  pem: string;
}

describe('auth/jwt', () => {
  let dir: string;
  let rsa: Pair;
  let ec: Pair;
  let ed: Pair;

  function pair(name: string, { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject }): Pair {
    const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const file = join(dir, `${name}.pem`);
    writeFileSync(file, pem);
    return { privateKey, file, pem };
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsmesh-jwt-'));
    rsa = pair('rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }));
    ec = pair('p256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    ed = pair('ed25519', generateKeyPairSync('ed25519'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const withSecret = (over = {}): JwtVerifier => createJwtVerifier(jwtSettings({ secret: SECRET, ...over }), { now })!;
  const withKeyFile = (file: string, over = {}): JwtVerifier => createJwtVerifier(jwtSettings({ publicKeyFile: file, ...over }), { now })!;

  describe('createJwtVerifier', () => {
    it('gives undefined when no secret, key file or JWKS is set', () => {
      expect(createJwtVerifier(jwtSettings())).to.equal(undefined);
    });

    it('throws naming both settings when two key sources are set', () => {
      expect(() => createJwtVerifier(jwtSettings({ secret: SECRET, jwksUrl: 'http://127.0.0.1:1/jwks' }))).to.throw(/auth\.jwt\.secret and auth\.jwt\.jwksUrl .*set exactly one/);
      expect(() => createJwtVerifier(jwtSettings({ secret: SECRET, publicKeyFile: rsa.file, jwksUrl: 'http://127.0.0.1:1/jwks' }))).to.throw(/secret and auth\.jwt\.publicKeyFile and auth\.jwt\.jwksUrl/);
    });

    it('throws naming the setting and the path when the key file cannot be read', () => {
      const missing = join(dir, 'missing.pem');
      expect(() => createJwtVerifier(jwtSettings({ publicKeyFile: missing }))).to.throw(`auth.jwt.publicKeyFile: cannot read ${missing} (ENOENT)`);
    });

    it('throws when the key file is not a PEM public key', () => {
      const file = join(dir, 'junk.pem');
      writeFileSync(file, 'not a key\n');
      expect(() => createJwtVerifier(jwtSettings({ publicKeyFile: file }))).to.throw(/auth\.jwt\.publicKeyFile: .*junk\.pem is not a PEM public key .*BEGIN PUBLIC KEY/);
    });

    it('throws when the key file holds a private key, which must not be on the push servers', () => {
      const file = join(dir, 'private.pem');
      writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
      expect(() => createJwtVerifier(jwtSettings({ publicKeyFile: file }))).to.throw(/holds a private key; give its public key/);
    });

    it('throws for an RSA key under 2048 bits', () => {
      const file = join(dir, 'rsa1024.pem');
      writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }));
      expect(() => createJwtVerifier(jwtSettings({ publicKeyFile: file }))).to.throw(/1024-bit RSA key; tokens need one of at least 2048 bits/);
    });

    it('throws for an EC key on a curve no JWS algorithm uses', () => {
      const file = join(dir, 'k256.pem');
      writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'pem', type: 'spki' }));
      expect(() => createJwtVerifier(jwtSettings({ publicKeyFile: file }))).to.throw(/EC key on curve secp256k1; use P-256/);
    });

    it('throws for a key type that signs no supported algorithm', () => {
      const file = join(dir, 'x25519.pem');
      writeFileSync(file, generateKeyPairSync('x25519').publicKey.export({ format: 'pem', type: 'spki' }));
      expect(() => createJwtVerifier(jwtSettings({ publicKeyFile: file }))).to.throw(/x25519 key, which signs no supported JWT algorithm/);
    });

    it('warns, without the secret, when the secret is shorter than 32 bytes', () => {
      const lines: string[] = [];
      createJwtVerifier(jwtSettings({ secret: 'short-secret' }), { log: createLogger('debug', (line) => lines.push(line)) });
      expect(lines).to.have.length(1);
      expect(JSON.parse(lines[0]!)).to.include({ event: 'auth.jwt_secret_short', bytes: 12 });
      expect(lines[0]).not.to.include('short-secret');
    });

    it('does not warn about a 32-byte secret', () => {
      const lines: string[] = [];
      createJwtVerifier(jwtSettings({ secret: 'x'.repeat(32) }), { log: createLogger('debug', (line) => lines.push(line)) });
      expect(lines).to.deep.equal([]);
    });

    it('counts no JWKS fetches without a JWKS', () => {
      expect(withSecret().stats).to.deep.equal({ jwksFetches: 0, jwksFailures: 0 });
    });
  });

  describe('#verify with a secret', () => {
    it('accepts an HS256 token and gives its identity', async () => {
      const identity = await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }));
      expect(identity).to.deep.equal({ source: 'token', contextId: 7, userId: 42, sessionId: 'app-session-1', expiresAt: (NOW_S + 600 + 30) * 1000 });
    });

    it('accepts HS384 and HS512 tokens', async () => {
      for (const alg of ['HS384', 'HS512']) await expectAccepted(withSecret(), await sign(secretBytes, { alg }));
    });

    it('accepts sub and ctx as numbers or as decimal strings', async () => {
      const identity = await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { sub: 42, ctx: '7' }));
      expect(identity).to.include({ userId: 42, contextId: 7 });
      const largest = await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { sub: String(Number.MAX_SAFE_INTEGER) }));
      expect(largest.userId).to.equal(Number.MAX_SAFE_INTEGER);
    });

    it('reads the context id from the configured claim', async () => {
      const identity = await expectAccepted(withSecret({ contextClaim: 'tenant' }), await sign(secretBytes, { alg: 'HS256' }, { ctx: undefined, tenant: 99 }));
      expect(identity.contextId).to.equal(99);
    });

    it('gives no sessionId when the token has no sid', async () => {
      const identity = await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { sid: undefined }));
      expect(identity).not.to.have.property('sessionId');
    });

    it('sets expiresAt to exp plus the configured tolerance', async () => {
      const identity = await expectAccepted(withSecret({ clockTolerance: 5 }), await sign(secretBytes, { alg: 'HS256' }, { exp: NOW_S + 100 }));
      expect(identity.expiresAt).to.equal((NOW_S + 105) * 1000);
    });

    it('checks issuer and audience when they are set', async () => {
      const verifier = withSecret({ issuer: 'https://app.example', audience: 'wsmesh' });
      await expectAccepted(verifier, await sign(secretBytes, { alg: 'HS256' }, { iss: 'https://app.example', aud: 'wsmesh' }));
      await expectAccepted(verifier, await sign(secretBytes, { alg: 'HS256' }, { iss: 'https://app.example', aud: ['other', 'wsmesh'] }));
      await expectRefused(verifier, await sign(secretBytes, { alg: 'HS256' }, { aud: 'wsmesh' }), 'ERR_TOKEN_INVALID', /^"iss" is missing$/);
      await expectRefused(verifier, await sign(secretBytes, { alg: 'HS256' }, { iss: 'https://app.example' }), 'ERR_TOKEN_INVALID', /^"aud" is missing$/);
    });

    it('checks neither issuer nor audience when they are empty', async () => {
      await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { iss: 'anyone', aud: 'anything' }));
    });

    it('accepts a future nbf within the clock tolerance', async () => {
      await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { nbf: NOW_S + 20 }));
    });

    it('checks exp against the injected clock, not the real one', async () => {
      // The same token, expired at one injected time and valid at the other: the real clock plays no part.
      const verifier = createJwtVerifier(jwtSettings({ secret: SECRET }), { now: () => (NOW_S + 700) * 1000 })!;
      await expectRefused(verifier, await sign(secretBytes, { alg: 'HS256' }), 'ERR_TOKEN_EXPIRED');
      await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }));
    });
  });

  describe('#verify with a public key file', () => {
    it('accepts RS256, PS256 and RS512 tokens with an RSA key', async () => {
      for (const alg of ['RS256', 'PS256', 'RS512']) await expectAccepted(withKeyFile(rsa.file), await sign(rsa.privateKey, { alg }));
    });

    it('accepts ES256 tokens with a P-256 key', async () => {
      await expectAccepted(withKeyFile(ec.file), await sign(ec.privateKey, { alg: 'ES256' }));
    });

    it('accepts EdDSA tokens with an Ed25519 key', async () => {
      await expectAccepted(withKeyFile(ed.file), await sign(ed.privateKey, { alg: 'EdDSA' }));
    });

    it('refuses a token signed by another key of the same type', async () => {
      const other = await generateKeyPair('ES256');
      await expectRefused(withKeyFile(ec.file), await sign(other.privateKey, { alg: 'ES256' }), 'ERR_TOKEN_INVALID', /signature does not match/);
    });

    it('refuses an algorithm its key type does not make (ES384 against a P-256 key)', async () => {
      const p384 = await generateKeyPair('ES384');
      await expectRefused(withKeyFile(ec.file), await sign(p384.privateKey, { alg: 'ES384' }), 'ERR_TOKEN_INVALID', /"alg" is not one the configured key may verify/);
    });
  });

  describe('attacks', () => {
    it('refuses alg "none" against a secret', async () => {
      await expectRefused(withSecret(), handMade({ alg: 'none', typ: 'JWT' }, claims()), 'ERR_TOKEN_INVALID', /"alg" is not one/);
    });

    it('refuses alg "none" against a public key, whatever its spelling or signature', async () => {
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        await expectRefused(withKeyFile(rsa.file), handMade({ alg }, claims()), 'ERR_TOKEN_INVALID', /"alg" is not one/);
        await expectRefused(withKeyFile(rsa.file), handMade({ alg }, claims(), b64url('x'.repeat(32))), 'ERR_TOKEN_INVALID', /"alg" is not one/);
      }
    });

    it('refuses a token without alg', async () => {
      await expectRefused(withSecret(), handMade({ typ: 'JWT' }, claims(), b64url('x')), 'ERR_TOKEN_INVALID', /malformed/);
    });

    it('refuses an HS256 token signed with the RSA public key PEM as secret (algorithm confusion)', async () => {
      const forged = await sign(new TextEncoder().encode(rsa.pem), { alg: 'HS256' });
      await expectRefused(withKeyFile(rsa.file), forged, 'ERR_TOKEN_INVALID', /"alg" is not one the configured key may verify/);
    });

    it('refuses an RS256 token when a secret is configured (the swap the other way)', async () => {
      await expectRefused(withSecret(), await sign(rsa.privateKey, { alg: 'RS256' }), 'ERR_TOKEN_INVALID', /"alg" is not one/);
    });

    it('refuses a tampered payload (sub changed, signature kept)', async () => {
      const [header, , signature] = (await sign(secretBytes, { alg: 'HS256' })).split('.');
      const tampered = `${header}.${b64url(claims({ sub: '1' }))}.${signature}`;
      await expectRefused(withSecret(), tampered, 'ERR_TOKEN_INVALID', /signature does not match/);
    });

    it('refuses a tampered payload of an RS256 token', async () => {
      const [header, , signature] = (await sign(rsa.privateKey, { alg: 'RS256' })).split('.');
      await expectRefused(withKeyFile(rsa.file), `${header}.${b64url(claims({ ctx: 8 }))}.${signature}`, 'ERR_TOKEN_INVALID', /signature does not match/);
    });

    it('refuses a token signed with another secret', async () => {
      await expectRefused(withSecret(), await sign(randomBytes(32), { alg: 'HS256' }), 'ERR_TOKEN_INVALID', /signature does not match/);
    });

    it('refuses a token for another audience', async () => {
      await expectRefused(withSecret({ audience: 'wsmesh' }), await sign(secretBytes, { alg: 'HS256' }, { aud: 'billing' }), 'ERR_TOKEN_INVALID', /^"aud" is not the configured audience$/);
    });

    it('refuses a token of another issuer', async () => {
      await expectRefused(withSecret({ issuer: 'https://app.example' }), await sign(secretBytes, { alg: 'HS256' }, { iss: 'https://evil.example' }), 'ERR_TOKEN_INVALID', /^"iss" is not the configured issuer$/);
    });

    it('refuses a token whose nbf is in the future beyond the tolerance', async () => {
      await expectRefused(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { nbf: NOW_S + 31 }), 'ERR_TOKEN_INVALID', /^"nbf" is in the future/);
    });

    it('refuses an expired token with ERR_TOKEN_EXPIRED', async () => {
      await expectRefused(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { exp: NOW_S - 30 }), 'ERR_TOKEN_EXPIRED', /^"exp" is past/);
      await expectRefused(withSecret({ clockTolerance: 0 }), await sign(secretBytes, { alg: 'HS256' }, { exp: NOW_S }), 'ERR_TOKEN_EXPIRED');
    });

    it('accepts a token expired less than the tolerance ago, and ends it at exp plus the tolerance', async () => {
      const identity = await expectAccepted(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { exp: NOW_S - 29 }));
      expect(identity.expiresAt).to.equal((NOW_S + 1) * 1000);
    });

    it('refuses an expired token whose signature is also wrong as invalid, not expired', async () => {
      await expectRefused(withSecret(), await sign(randomBytes(32), { alg: 'HS256' }, { exp: NOW_S - 3600 }), 'ERR_TOKEN_INVALID', /signature/);
    });

    it('refuses a token without exp', async () => {
      await expectRefused(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { exp: undefined }), 'ERR_TOKEN_INVALID', /^"exp" is missing$/);
    });

    it('refuses an exp that is not a number', async () => {
      await expectRefused(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { exp: String(NOW_S + 600) }), 'ERR_TOKEN_INVALID', /^"exp" is not a number$/);
    });

    const notPositiveIntegers: unknown[] = ['abc', '', '1.5', 1.5, 0, '0', -1, '-1', '007', ' 42', '42 ', '+42', '1e3', 1e300, 2 ** 53, '9007199254740993', true, null, [42], { id: 42 }];

    it('refuses a sub that is missing or not a positive integer', async () => {
      await expectRefused(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { sub: undefined }), 'ERR_TOKEN_INVALID', /^"sub" is not a positive integer$/);
      for (const sub of notPositiveIntegers) {
        await expectRefused(withSecret(), await handSigned({ sub }), 'ERR_TOKEN_INVALID', /^"sub" is not a positive integer$/);
      }
    });

    it('refuses a context claim that is missing or not a positive integer', async () => {
      await expectRefused(withSecret(), await sign(secretBytes, { alg: 'HS256' }, { ctx: undefined }), 'ERR_TOKEN_INVALID', /^"ctx" is not a positive integer$/);
      for (const ctx of notPositiveIntegers) {
        await expectRefused(withSecret(), await handSigned({ ctx }), 'ERR_TOKEN_INVALID', /^"ctx" is not a positive integer$/);
      }
    });

    it('refuses a sid that is not a non-empty string, so a logout can always find the socket', async () => {
      for (const sid of [42, '', null, ['s']]) {
        await expectRefused(withSecret(), await handSigned({ sid }), 'ERR_TOKEN_INVALID', /^"sid" is not a non-empty string$/);
      }
    });

    it('refuses a signed payload that is not a JSON object', async () => {
      const jws = await new CompactSign(new TextEncoder().encode('[1,2,3]')).setProtectedHeader({ alg: 'HS256' }).sign(secretBytes);
      await expectRefused(withSecret(), jws, 'ERR_TOKEN_INVALID', /malformed: the payload is not a JSON claims set/);
    });

    it('refuses an unknown critical header parameter', async () => {
      // The signer must be told it understands the parameter, or it refuses to sign.
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', crit: ['x-must-understand'], 'x-must-understand': true }).sign(secretBytes, { crit: { 'x-must-understand': true } });
      await expectRefused(withSecret(), token, 'ERR_TOKEN_INVALID', /critical header parameter is not supported/);
    });

    const MALFORMED = /^malformed: not a compact JWS/;
    const malformed: Array<[string, () => string, RegExp]> = [
      ['two parts ("a.b")', () => 'a.b', MALFORMED],
      ['only dots ("...")', () => '...', MALFORMED],
      ['an empty string', () => '', MALFORMED],
      ['four parts', () => 'a.b.c.d', MALFORMED],
      ['five parts (a JWE)', () => `${b64url({ alg: 'dir', enc: 'A256GCM' })}....`, MALFORMED],
      ['random junk', () => randomBytes(48).toString('base64'), MALFORMED],
      ['10 KB of garbage', () => randomBytes(10 * 1024).toString('latin1'), MALFORMED],
      ['10 KB of base64url garbage in three parts', () => [1, 2, 3].map(() => randomBytes(2560).toString('base64url')).join('.'), MALFORMED],
      ['a header that is not JSON', () => `${b64url('not json')}.${b64url(claims())}.${b64url('sig')}`, MALFORMED],
      ['a header that is a JSON array', () => `${b64url([1])}.${b64url(claims())}.${b64url('sig')}`, MALFORMED],
      ['a signature that is not base64url', () => `${b64url({ alg: 'HS256' })}.${b64url(claims())}.!!!***`, MALFORMED],
      // jose decodes the padded parts, but the signing input is the string as given.
      ['whitespace around a real token', () => ` ${hs256Now} `, /signature does not match/],
    ];

    let hs256Now = '';
    before(async () => {
      hs256Now = await sign(secretBytes, { alg: 'HS256' });
    });

    for (const [what, make, reason] of malformed) {
      it(`refuses a malformed token: ${what}`, async () => {
        await expectRefused(withSecret(), make(), 'ERR_TOKEN_INVALID', reason);
        await expectRefused(withKeyFile(rsa.file), make(), 'ERR_TOKEN_INVALID');
      });
    }

    it('refuses a value that is not a string without throwing', async () => {
      for (const value of [undefined, null, 42, {}]) {
        const outcome = await withSecret().verify(value as unknown as string);
        expect(outcome).to.include({ ok: false, code: 'ERR_TOKEN_INVALID' });
      }
    });
  });

  /** An HS256 token with claims no issuer library would write (SignJWT insists sub is a string). */
  function handSigned(over: Record<string, unknown>): Promise<string> {
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims(over)))).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secretBytes);
  }
});

/**
 * The key a JWT is checked with, and the algorithms that key may be used with. The
 * algorithm list is the defence against algorithm confusion (RFC 8725 section 3.1): a
 * token's `alg` header is the attacker's to choose, so it must never decide what kind
 * of key its signature is checked against. A secret accepts only HMAC, a public key
 * only the signatures its key type makes, a JWKS only asymmetric ones.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
/** EdDSA is the JWS name RFC 8037 gave Ed25519; jose also takes RFC 9864's "Ed25519". */
const ED25519_ALGORITHMS = ['EdDSA', 'Ed25519'] as const;
/** One curve, one algorithm (RFC 7518 section 3.4): node:crypto curve names. */
const EC_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
export const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, ...Object.values(EC_ALGORITHMS), ...ED25519_ALGORITHMS];

/** jose refuses RSA keys under 2048 bits at verification; refused here at start instead. */
const MIN_RSA_BITS = 2048;

export interface PublicKey {
  key: KeyObject;
  algorithms: string[];
}

/** The secret's bytes (UTF-8, as issuers' libraries take a string secret). */
export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/**
 * The PEM public key of `auth.jwt.publicKeyFile` and its algorithms. Throws at start,
 * saying what to fix, rather than refusing every token later.
 */
export function publicKeyFromFile(path: string): PublicKey {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`auth.jwt.publicKeyFile: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give the path of a readable PEM public key file`);
  }
  // createPublicKey would derive the public half of a private key and carry on: refuse,
  // so a signing key never ends up deployed on the push servers by mistake.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error(`auth.jwt.publicKeyFile: ${path} holds a private key; give its public key instead (openssl pkey -in KEY -pubout)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`auth.jwt.publicKeyFile: ${path} is not a PEM public key (${(error as Error).message}); give a "-----BEGIN PUBLIC KEY-----" file`);
  }
  return { key, algorithms: algorithmsOf(key, path) };
}

function algorithmsOf(key: KeyObject, path: string): string[] {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
        throw new Error(`auth.jwt.publicKeyFile: ${path} is a ${details.modulusLength}-bit RSA key; tokens need one of at least ${MIN_RSA_BITS} bits (RFC 7518 section 3.3)`);
      }
      return [...RSA_ALGORITHMS];
    case 'rsa-pss':
      // jose on Node 20 cannot use an RSASSA-PSS-only (OID id-RSASSA-PSS) key object.
      throw new Error(`auth.jwt.publicKeyFile: ${path} is an RSASSA-PSS-only key, which jose cannot use; give the plain RSA public key (PS256 tokens verify with it)`);
    case 'ec': {
      const alg = EC_ALGORITHMS[details.namedCurve ?? ''];
      if (alg) return [alg];
      throw new Error(`auth.jwt.publicKeyFile: ${path} is an EC key on curve ${details.namedCurve}; use P-256 (ES256), P-384 or P-521`);
    }
    case 'ed25519':
      return [...ED25519_ALGORITHMS];
    default:
      throw new Error(`auth.jwt.publicKeyFile: ${path} is a ${key.asymmetricKeyType} key, which signs no supported JWT algorithm; use RSA, EC P-256 or Ed25519`);
  }
}

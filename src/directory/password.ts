/**
 * Salted scrypt password hashes, stored as
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` (RFC 7914 parameters).
 *
 * New hashes use N=16384, r=8, p=1, a 16-byte random salt and a 32-byte key (the
 * parameters recommended for interactive logins; ~16 MiB and tens of ms per hash).
 * Verification reads the parameters from the stored hash, so they can be raised
 * later without invalidating existing hashes.
 *
 * Passwords are NFC-normalised before hashing, so the same password typed as composed
 * or decomposed Unicode (`é` vs `e` + combining accent) verifies the same.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_DEFAULTS = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

/**
 * A well-formed hash of a random password that was thrown away: it verifies nothing.
 * A login for an unknown (or disabled) user verifies against it, so it spends the
 * same scrypt work and gets the same answer (false) as a wrong password would, and
 * the response time does not reveal which logins exist.
 */
export const DUMMY_HASH =
  'scrypt$16384$8$1$+txelwd+SvVvTm9ba4/qLw==$UxS6GfExjP55ese3sDUFC63E+vPg2NCrk+trwWSyPsA=';

/** Bounds on parameters read from a stored hash, so a hostile file cannot ask for gigabytes. */
const LIMITS = { maxN: 1 << 20, maxR: 32, maxP: 16, minSalt: 8, minKey: 16, maxKey: 128 } as const;
const PREFIX = 'scrypt';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DECIMAL = /^[1-9][0-9]{0,9}$/;

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, saltBytes, keyBytes } = SCRYPT_DEFAULTS;
  const salt = randomBytes(saltBytes);
  const hash = await derive(password, salt, keyBytes, { N, r, p });
  return [PREFIX, N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * True when `password` matches `stored`. Never throws: a malformed or unsupported
 * stored hash is `false` (the directory validates hashes at load time with
 * `isPasswordHash`, so this is a last line of defence). Compares in constant time.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed || typeof password !== 'string') return false;
  try {
    const { N, r, p, salt, hash } = parsed;
    const actual = await derive(password, salt, hash.length, { N, r, p });
    return timingSafeEqual(actual, hash);
  } catch {
    return false;
  }
}

/** True when `stored` is a hash `verifyPassword` can check (syntax and parameter bounds). */
export function isPasswordHash(stored: unknown): boolean {
  return parseHash(stored) !== undefined;
}

function parseHash(stored: unknown): ParsedHash | undefined {
  if (typeof stored !== 'string') return undefined;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [, nText, rText, pText, saltText, hashText] = parts;
  if (!DECIMAL.test(nText) || !DECIMAL.test(rText) || !DECIMAL.test(pText)) return undefined;
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  // N must be a power of two greater than 1 (RFC 7914, section 2).
  if (N < 2 || N > LIMITS.maxN || (N & (N - 1)) !== 0) return undefined;
  if (r > LIMITS.maxR || p > LIMITS.maxP) return undefined;
  const salt = decodeBase64(saltText);
  const hash = decodeBase64(hashText);
  if (!salt || !hash) return undefined;
  if (salt.length < LIMITS.minSalt || hash.length < LIMITS.minKey || hash.length > LIMITS.maxKey) return undefined;
  return { N, r, p, salt, hash };
}

/** Strict base64: Node's decoder silently skips invalid characters, so check first and round-trip. */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function derive(password: string, salt: Buffer, keyBytes: number, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node refuses above `maxmem` (32 MiB by default).
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Mosquitto 2.0's password hash, as `mosquitto_passwd` writes it in a password_file:
 * `$7$<iterations>$<salt base64>$<hash base64>`, where the hash is
 * PBKDF2-HMAC-SHA512 of the password's bytes with the salt's raw bytes (not its
 * base64 text). mosquitto_passwd 2.0 uses 101 iterations, a 12-byte salt
 * and a 64-byte hash; checked by verifying real `mosquitto_passwd` output
 * (spec/mqtt/mosquitto-password.spec.ts) and by real mosquitto accepting what this
 * writes (spec/mqtt/acl-matrix.spec.ts).
 *
 * The password is hashed as its UTF-8 bytes, not normalised: the broker compares
 * the bytes a client sends.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const MOSQUITTO_PBKDF2 = { iterations: 101, saltBytes: 12, hashBytes: 64, digest: 'sha512' } as const;

/** `$7$` is mosquitto's tag for PBKDF2-SHA512 (`$6$` is its older single-round SHA512). */
const TAG = '7';
/** Mosquitto reads the password as a C string: a NUL would end it early. */
const UNHASHABLE = /[\0\r\n]/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface MosquittoHashOptions {
  /** The salt's bytes; default `saltBytes` random ones. Tests give a fixed one. */
  salt?: Buffer;
  iterations?: number;
}

/** The password_file hash of `password`; throws for a password mosquitto could not check. */
export function mosquittoPasswordHash(password: string, options: MosquittoHashOptions = {}): string {
  if (typeof password !== 'string' || password === '') throw new Error('an empty password cannot be hashed for mosquitto');
  if (UNHASHABLE.test(password)) throw new Error('a mosquitto password cannot hold a NUL or a line break');
  const salt = options.salt ?? randomBytes(MOSQUITTO_PBKDF2.saltBytes);
  const iterations = options.iterations ?? MOSQUITTO_PBKDF2.iterations;
  if (salt.length === 0) throw new Error('the salt is empty');
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error(`iterations must be a positive integer: ${iterations}`);
  const hash = pbkdf2Sync(password, salt, iterations, MOSQUITTO_PBKDF2.hashBytes, MOSQUITTO_PBKDF2.digest);
  return `$${TAG}$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches a `$7$` hash; false for anything malformed. Constant-time compare. */
export function verifyMosquittoPassword(password: string, stored: string): boolean {
  const parts = typeof stored === 'string' ? stored.split('$') : [];
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== TAG) return false;
  const [, , iterationsText, saltText, hashText] = parts;
  // mosquitto_passwd allows up to its own bound; ours keeps a hostile file from costing minutes.
  if (!/^[1-9][0-9]{0,6}$/.test(iterationsText) || !BASE64.test(saltText) || !BASE64.test(hashText)) return false;
  const expected = Buffer.from(hashText, 'base64');
  if (expected.length !== MOSQUITTO_PBKDF2.hashBytes || typeof password !== 'string') return false;
  const actual = pbkdf2Sync(password, Buffer.from(saltText, 'base64'), Number(iterationsText), expected.length, MOSQUITTO_PBKDF2.digest);
  return timingSafeEqual(actual, expected);
}

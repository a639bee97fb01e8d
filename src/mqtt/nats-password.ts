/**
 * The bcrypt hash NATS accepts in a user's `password` (nats-server compares a
 * password with a value starting `$2a$`, `$2b$`... by bcrypt): the accounts file
 * then holds no password. bcryptjs writes `$2b$`; nats-server 2.9.10 accepts it
 * (spec/mqtt/acl-matrix.spec.ts connects with such hashes).
 *
 * Cost 11: about 0.2 s to hash here, and each CONNECT of that user costs the NATS
 * server one check. bcrypt reads only the first 72 bytes of a password, so a
 * longer one is refused rather than silently cut.
 */
import { compare, hash } from 'bcryptjs';

export const NATS_BCRYPT_COST = 11;
export const BCRYPT_MAX_BYTES = 72;

/** The bcrypt hash of `password`; throws for an empty one, one over 72 bytes, or a cost bcrypt has not. */
export async function natsPasswordHash(password: string, cost: number = NATS_BCRYPT_COST): Promise<string> {
  if (typeof password !== 'string' || password === '') throw new Error('an empty password cannot be hashed for NATS');
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > BCRYPT_MAX_BYTES) throw new Error(`the password is ${bytes} bytes long; bcrypt (NATS) reads only the first ${BCRYPT_MAX_BYTES}, so use a shorter one`);
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new Error(`the bcrypt cost must be an integer from 4 to 31: ${cost}`);
  return hash(password, cost);
}

/** True when `password` matches the bcrypt `stored`; false for a malformed hash. */
export async function verifyNatsPassword(password: string, stored: string): Promise<boolean> {
  try {
    return await compare(password, stored);
  } catch {
    return false;
  }
}

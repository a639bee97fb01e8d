/** Reads a JSON request body with a size limit (413 past it, 400 when malformed). */
import type { Context } from 'koa';
import { WsmeshError } from '../errors.ts';

export const BODY_LIMIT = 1024 * 1024;

export async function readJson(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > limit) throw new WsmeshError('ERR_PAYLOAD_TOO_LARGE', `The body must not exceed ${limit} bytes`);
  if (!ctx.is('application/json')) throw new WsmeshError('ERR_UNSUPPORTED_MEDIA_TYPE');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      // Stop reading; the connection is closed after the answer (no keep-alive on an unread body).
      ctx.set('Connection', 'close');
      throw new WsmeshError('ERR_PAYLOAD_TOO_LARGE', `The body must not exceed ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new WsmeshError('ERR_BAD_REQUEST', 'The body is not valid JSON');
  }
}

/** A plain object (not null, not an array), or ERR_BAD_REQUEST. */
export function expectObject(value: unknown, what = 'The body'): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new WsmeshError('ERR_BAD_REQUEST', `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A positive integer in a JSON body: a number, never a string ("1" is a client bug to report, not to guess). */
export function jsonPositiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new WsmeshError('ERR_BAD_REQUEST', `${name} must be a positive integer (a JSON number)`);
  }
  return value;
}

/** A positive integer from a query string (or a JSON number). */
export function positiveInt(value: unknown, name: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    throw new WsmeshError('ERR_BAD_REQUEST', `${name} must be a positive integer`);
  }
  return number;
}

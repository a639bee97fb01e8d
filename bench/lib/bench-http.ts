/**
 * What the bench's baseline servers (bench/baseline-server.ts, bench/socketio-server.ts)
 * share of the contract wsmesh speaks: the command line, JSON in and out, and the
 * login (`POST /api/login {login}` -> `{session, userId}` and a `bench-secret` cookie;
 * no password check: the bench does not time logins), with the session check an
 * upgrade makes (the session in the query, its secret in the cookie).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const COOKIE = 'bench-secret';
const BODY_LIMIT = 1024 * 1024;

export interface ServerArgs {
  host: string;
  port: number;
  directory: string;
  actors: boolean;
}

/** `--host H --port P --directory FILE [--actors]`; exits 2 with the usage when one is missing. */
export function serverArgs(script: string): ServerArgs {
  const { values } = parseArgs({
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, directory: { type: 'string' }, actors: { type: 'boolean', default: false } },
  });
  if (!values.port || !values.directory) {
    process.stderr.write(`usage: ${script} --port P --directory FILE [--host H]\n`);
    process.exit(2);
  }
  return { host: values.host!, port: Number(values.port), directory: values.directory, actors: values.actors === true };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('body too large');
    chunks.push(chunk);
  }
  const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('body must be a JSON object');
  return value as Record<string, unknown>;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Logins against the directory file wsmesh reads, and the sessions they made. */
export class BenchLogins {
  /** login -> user id. */
  private readonly userIds: Map<string, number>;
  private readonly sessions = new Map<string, { userId: number; secret: string }>();

  constructor(directoryFile: string) {
    const { users } = JSON.parse(readFileSync(directoryFile, 'utf8')) as { users: Array<{ id: number; login: string }> };
    this.userIds = new Map(users.map((u) => [u.login, u.id]));
  }

  /** Answers `POST /api/login`. */
  async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const userId = this.userIds.get(String((await readJson(req)).login));
    if (userId === undefined) return sendJson(res, 401, { error: 'ERR_LOGIN_FAILED' });
    const session = randomBytes(16).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    this.sessions.set(session, { userId, secret });
    sendJson(res, 200, { session, userId }, { 'set-cookie': `${COOKIE}=${secret}; Path=/; HttpOnly` });
  }

  /** The session of an upgrade request whose `session` query and cookie match, else undefined. */
  sessionOf(req: IncomingMessage): { userId: number } | undefined {
    const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('session') ?? '';
    const session = this.sessions.get(id);
    return session && cookieValue(req.headers.cookie, COOKIE) === session.secret ? session : undefined;
  }
}

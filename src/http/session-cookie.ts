/**
 * The secret cookie, through koa-session. The cookie carries the session's secret,
 * signed with `session.keys` (a forged or tampered value is refused before any
 * lookup); the store adapter maps it to the session record by the secret's hash, so
 * neither the store nor anything it replicates holds a raw secret.
 *
 * A login never continues the cookie it came with: it always gets a fresh secret
 * (session fixation, OWASP ASVS 3.2.1), and the session that cookie belonged to ends.
 *
 * The sticky `JSESSIONID=<random>.<route>` cookie is for proxies; it authenticates nothing.
 */
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import type { Context } from 'koa';
import { createSession } from 'koa-session';
import type { SessionConfig } from '../config/types.ts';
import type { SessionStore } from '../session/store.ts';
import { hashSecret, newSecret, type SessionRecord } from '../session/session.ts';
import { CookieSigner } from './cookie-signer.ts';

export const STICKY_COOKIE = 'JSESSIONID';

/** What the login route puts into `ctx.session`; koa-session hands it to the store on commit. */
export interface NewSession {
  sid: string;
  contextId: number;
  userId: number;
  ip: string;
  route: string;
  node: string;
}

const FRESH = Symbol('wsmesh.freshSession');

export function sessionCookieMiddleware(app: Koa, live: { readonly config: { session: SessionConfig } }, sessions: SessionStore): Koa.Middleware {
  const config = live.config.session;
  // Koa hands app.keys to `cookies`, which takes a keygrip-shaped signer as it is.
  app.keys = new CookieSigner(config.keys) as unknown as string[];
  const cookieOptions = () => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    signed: true,
    path: '/',
    overwrite: true,
    maxAge: live.config.session.maxAge,
  });
  return createSession(
    {
      key: config.cookieName,
      maxAge: config.maxAge,
      httpOnly: true,
      sameSite: 'lax',
      signed: true,
      genid: () => newSecret(),
      externalKey: {
        get: (ctx: Context) => ((ctx.state as Record<symbol, unknown>)[FRESH] ? '' : (ctx.cookies.get(config.cookieName, { signed: true }) ?? '')),
        set: (ctx: Context, secret: string) => void ctx.cookies.set(config.cookieName, secret, cookieOptions()),
      },
      store: {
        async get(secret: string) {
          const hash = hashSecret(secret);
          // Unknown here: perhaps a login on another node a moment ago; ask the cluster.
          const record = sessions.getBySecretHash(hash) ?? (await sessions.find({ secretHash: hash }));
          return record ? { sid: record.id } : undefined;
        },
        async set(secret: string, data: Partial<NewSession> & { _expire?: number }) {
          if (!data.sid || sessions.get(data.sid)) return;
          sessions.create(toRecord(secret, data as NewSession, live.config.session.maxAge));
          // The login answers once the record is durable: then every node can read it.
          await sessions.durable(data.sid);
        },
        async destroy(secret: string) {
          const record = sessions.getBySecretHash(hashSecret(secret));
          if (!record) return;
          sessions.end(record.id, 'logout');
          // The 204 waits for the end to be durable: then every node refuses the session.
          await sessions.durable(record.id);
        },
      },
    },
    app,
  );
}

function toRecord(secret: string, data: NewSession, maxAge: number): SessionRecord {
  const now = Date.now();
  return {
    id: data.sid,
    secretHash: hashSecret(secret),
    contextId: data.contextId,
    userId: data.userId,
    ip: data.ip,
    route: data.route,
    node: data.node,
    createdAt: now,
    expiresAt: now + maxAge,
  };
}

/** Mounted before koa-session on the login route: start from a fresh secret. */
export const freshSession: Koa.Middleware = async (ctx, next) => {
  (ctx.state as Record<symbol, unknown>)[FRESH] = true;
  await next();
};

/** The public id bound to the request's secret cookie, if the cookie is valid and live. */
export function cookieSessionId(ctx: Context): string | undefined {
  return (ctx.session as { sid?: string } | null)?.sid;
}

/** The record of the secret cookie the request came with, read directly (the login route ignores it otherwise). */
export function presentedSession(ctx: Context, cookieName: string, sessions: SessionStore): SessionRecord | undefined {
  const secret = ctx.cookies.get(cookieName, { signed: true });
  return secret ? sessions.getBySecretHash(hashSecret(secret)) : undefined;
}

/** Binds a new session to the response: koa-session issues the secret on commit. */
export function startSession(ctx: Context, session: NewSession): void {
  Object.assign(ctx.session!, session);
  ctx.cookies.set(STICKY_COOKIE, `${randomBytes(12).toString('hex')}.${session.route}`, { httpOnly: true, path: '/', signed: false, overwrite: true });
}

/** Ends the cookie's session (koa-session destroys it in the store) and clears both cookies. */
export function endSession(ctx: Context): void {
  ctx.session = null;
  ctx.cookies.set(STICKY_COOKIE, null, { path: '/', signed: false, overwrite: true });
}

/**
 * HTTP Upgrade through the Koa app: one validation pipeline for API calls and
 * sockets. Node hands upgrades to the 'upgrade' event with a bare socket; we bind a
 * ServerResponse to that socket and run the app's callback, so a refusal is an
 * ordinary Koa response (status, JSON body, `Connection: close`) written before any
 * upgrade. Only the last step, after every check, hands the socket to ws.
 *
 * The handshakes run from the node's admission queue (time/sliced-queue.ts), a few
 * milliseconds of them per turn of the event loop: thousands of upgrades arriving
 * together would otherwise be handled in one turn, and no other request answered
 * meanwhile.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Context } from 'koa';
import { WsmeshError, type ErrorCode } from '../errors.ts';
import { bindSocket } from '../actors/socket-events.ts';
import type { ConnectionActor, ConnectionInput } from '../actors/connection.machine.ts';
import type { WireProtocol } from '../protocol/wire-protocol.ts';
import type { AppDeps } from './deps.ts';
import { clientAddress } from './client-address.ts';
import { authState, UPGRADE_AUTH_CHECKS, UPGRADE_SYNTAX_CHECKS } from './guards.ts';
import { speaksSocketIo } from '../protocol/select.ts';
import type { AppIdentity } from '../auth/identity.ts';
import { appSessionKey } from '../auth/sources.ts';
import type { SlicedQueue } from '../time/sliced-queue.ts';

/** Engine.IO's answer to an unknown transport (engine.io/lib/server.ts, `Server.errors`). */
const ENGINE_IO_TRANSPORT_UNKNOWN = { code: 0, message: 'Transport unknown' };
/** ...and to a websocket request that is not an upgrade. */
const ENGINE_IO_BAD_REQUEST = { code: 3, message: 'Bad request' };

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  upgraded: boolean;
}

const PENDING = new WeakMap<IncomingMessage, PendingUpgrade>();

export function attachUpgrade(server: Server, app: Koa, admission: SlicedQueue): void {
  const handle = app.callback();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pending: PendingUpgrade = { socket, head, upgraded: false };
    PENDING.set(req, pending);
    socket.on('error', swallowSocketError);
    admission.push(() => handshakeOf(handle, req, pending));
  });
}

/** Runs the app on one upgrade; settles once it was answered (a refusal) or upgraded. */
function handshakeOf(handle: ReturnType<Koa['callback']>, req: IncomingMessage, pending: PendingUpgrade): Promise<void> {
  const { socket } = pending;
  // The response is not bound to the socket yet: Koa writes a refusal into its
  // buffer, and only a refusal gets the socket (an accepted socket must not keep
  // the request, the response and their listeners alive for its whole life).
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  return handle(req, res).then(() => {
    if (pending.upgraded) return;
    // Once the answer is written the connection is done. Destroy it, as ws's
    // abortHandshake does: a client keeping its half open must not hold a
    // connection (nor block shutdown, which cannot see upgrade sockets).
    res.on('finish', () => {
      res.detachSocket(socket as never);
      socket.once('finish', () => socket.destroy());
      socket.end();
    });
    res.assignSocket(socket as never);
  });
}

/**
 * The peer ended its side of an open socket (its FIN: a cut connection, a client gone):
 * close ours, in the node's admission queue rather than at once. A close(2) on a TCP
 * socket is the costly part of a dead socket (profiled in a 15,000-socket storm: 650 of
 * 1,300 ms, the rest Node's and ws's), and done where the FIN arrived, a proxy in front
 * dropping its connections made one turn of the event loop close every socket epoll
 * reported ended (`/healthz` waited 200-600 ms behind them). Queued, the closes run a
 * few milliseconds per turn, in order with the reconnecting clients' upgrades.
 *
 * ws half-closes on the peer's FIN (`end()`: a shutdown(2), the same FIN for the peer,
 * and once the socket is destroyed an error object for nothing); a socket released
 * here is closed instead, so its `end` is made a no-op until then. Only when nothing
 * waits to be written: a close frame queued for a peer still reading is kept.
 */
function closeOnPeerEnd(this: Duplex): void {
  if (this.writableLength !== 0) return;
  const socket = this as ReleasedSocket;
  this.end = endNothing as Duplex['end'];
  socket[RELEASE].push(() => {
    socket.destroy();
  });
}

const RELEASE = Symbol('wsmesh.release');
type ReleasedSocket = Duplex & { [RELEASE]: SlicedQueue };

function endNothing(this: Duplex): Duplex {
  return this;
}

/** Closes the socket once the peer ends it, in a turn of `queue` (see closeOnPeerEnd). */
function releaseOnPeerEnd(socket: Duplex, queue: SlicedQueue): void {
  (socket as ReleasedSocket)[RELEASE] = queue;
  socket.prependListener('end', closeOnPeerEnd);
}

/** A peer that resets mid-handshake must not crash the node; the actor sees the close. */
function swallowSocketError(): void {}

export function isUpgrade(ctx: Context): boolean {
  return PENDING.has(ctx.req);
}

/** The route for every served socket path (`/ws/...`, `/socket.io/...`). */
export function upgradeRoute(deps: AppDeps): Koa.Middleware {
  return async function handshake(ctx) {
    if (!isUpgrade(ctx)) {
      if (deps.live.config.websockets.paths.some((p) => speaksSocketIo(p) && (ctx.path === p || ctx.path.startsWith(p + '/')))) {
        // An Engine.IO client trying long-polling: answer in Engine.IO's own error
        // format, so the client reports a clear reason instead of a parse error.
        ctx.status = 400;
        ctx.body = ctx.query.transport === 'websocket' ? ENGINE_IO_BAD_REQUEST : ENGINE_IO_TRANSPORT_UNKNOWN;
        deps.stats.rejected('ERR_BAD_REQUEST');
        return;
      }
      // RFC 9110 section 15.5.22: a 426 names the protocol to upgrade to.
      ctx.set('Upgrade', 'websocket');
      ctx.set('Connection', 'Upgrade');
      throw new WsmeshError('ERR_UPGRADE_REQUIRED');
    }
    const auth = authState(ctx);
    let actor: ConnectionActor | undefined;
    let authenticated = false;
    try {
      for (const guard of UPGRADE_SYNTAX_CHECKS) await guard(ctx, auth, deps);
      const { websockets } = deps.live.config;
      const protocol = deps.protocols(auth.prefix!, new URLSearchParams(ctx.querystring), { ...websockets, historySize: websockets.history.size });
      actor = deps.supervisor.spawn(
        {
          connectionId: auth.connectionId!,
          path: auth.path!,
          remoteAddress: clientAddress(ctx),
          protocol: protocol.name,
          ...streamOf(protocol, ctx),
          settings: { pingInterval: websockets.pingInterval, pingTimeout: websockets.pingTimeout, maxBufferedBytes: websockets.maxBufferedBytes },
        },
        { protocol, hooks: deps.hooks },
      );
      if (!actor) throw new WsmeshError('ERR_SHUTTING_DOWN');
      for (const guard of UPGRADE_AUTH_CHECKS[auth.source!]) await guard(ctx, auth, deps);
      const identity = auth.identity!;
      authenticated = true;
      deps.stats.authenticated(auth.source!, 'ok');
      const refusal = deps.supervisor.admit(actor, {
        identity: { contextId: identity.contextId, userId: identity.userId, sessionId: indexedSessionOf(identity, auth.connectionId!) },
        connectionId: auth.connectionId!,
        path: auth.path!,
        prefix: auth.prefix!,
        remoteAddress: clientAddress(ctx),
      });
      if (refusal) throw new WsmeshError(refusal);
      // Read-your-writes for sockets: the broker confirmed this node's subscription to
      // the user's delivery topic before the 101, so any push accepted after it, on
      // any node, reaches this socket. Bounded by cluster.syncTimeout. A broker that
      // refused the subscription gets the socket refused: it would miss pushes silently.
      if ((await deps.service.deliverable(identity.contextId, identity.userId)) === 'refused') throw new WsmeshError('ERR_DELIVERY_UNAVAILABLE');
      const { socket } = PENDING.get(ctx.req)!;
      if (socket.destroyed) throw new WsmeshError('ERR_BAD_REQUEST', 'The client went away during the handshake');
      // A wsmesh session may have ended while the upgrade waited for the broker.
      if (auth.source === 'session' && !deps.sessions.get(auth.session!.id)) throw new WsmeshError('ERR_SESSION_UNKNOWN');
      // Likewise an application session its logout hook ended meanwhile (on any node).
      if (identity.sessionId !== undefined && auth.source !== 'session' && deps.service.appSessionEnded(appSessionKey(identity.sessionId))) {
        throw new WsmeshError('ERR_SESSION_UNKNOWN', 'The application ended this session');
      }
    } catch (error) {
      const code: ErrorCode = error instanceof WsmeshError ? error.code : 'ERR_INTERNAL';
      actor?.send({ type: 'handshake.rejected', code });
      deps.stats.rejected(code);
      // Authentication's own refusals are counted by source (wsmesh_auth_requests_total).
      if (auth.source && !authenticated && AUTH_CODES.has(code)) deps.stats.authenticated(auth.source, code);
      deps.log.info('ws.handshake', { outcome: 'rejected', error: code, source: auth.source, path: ctx.path, connectionId: auth.connectionId, ip: clientAddress(ctx) });
      throw error;
    }
    complete(ctx, actor, deps);
  };
}

/**
 * Whether the socket keeps a stream position: its protocol can show offsets (the raw
 * envelope, Socket.IO with recovery on). Socket.IO's stream begins with its CONNECT.
 */
function streamOf(protocol: WireProtocol, ctx: Context): Pick<ConnectionInput, 'stream'> {
  // Absent rather than undefined: the context stays plain data that a JSON round trip keeps.
  if (!protocol.streamOpened) return {};
  if (protocol.name.startsWith('socket.io')) return { stream: { awaitConnect: true } };
  const since = ctx.query.since;
  return { stream: typeof since === 'string' ? { awaitConnect: false, since } : { awaitConnect: false } };
}

/** The codes an authentication source refuses with (the rest are the handshake's own). */
const AUTH_CODES: ReadonlySet<ErrorCode> = new Set(['ERR_SESSION_UNKNOWN', 'ERR_DISABLED', 'ERR_SECRET_MISMATCH', 'ERR_IP_MISMATCH', 'ERR_TOKEN_INVALID', 'ERR_TOKEN_EXPIRED', 'ERR_AUTH_UNAVAILABLE']);

/**
 * The session key a socket is indexed under: wsmesh's own session id; the
 * application's session id apart from those (appSessionKey), for its logout hook;
 * or, with no session at all (a token without `sid`), the connection alone.
 */
function indexedSessionOf(identity: AppIdentity, connectionId: string): string {
  if (identity.source === 'session') return identity.sessionId!;
  return identity.sessionId !== undefined ? appSessionKey(identity.sessionId) : `conn:${connectionId}`;
}

/** Every check passed: ws writes the 101 and the actor takes the socket. */
function complete(ctx: Context, actor: ConnectionActor, deps: AppDeps): void {
  const pending = PENDING.get(ctx.req)!;
  const { socket, head } = pending;
  pending.upgraded = true;
  ctx.status = 101;
  ctx.respond = false;
  // ws aborts the handshake itself if it finds a problem we did not; the actor must
  // not wait in `authenticated` for a socket that never comes.
  const onAbort = () => {
    deps.stats.rejected('ERR_BAD_REQUEST');
    actor.send({ type: 'handshake.rejected', code: 'ERR_BAD_REQUEST' });
  };
  socket.once('close', onAbort);
  deps.wss.handleUpgrade(ctx.req, socket, head, (ws) => {
    socket.removeListener('close', onAbort);
    releaseOnPeerEnd(socket, deps.admission);
    bindSocket(ws, actor, deps.admission);
    actor.send({ type: 'ws.opened', socket: ws });
    deps.stats.handshakesAccepted++;
    const auth = authState(ctx);
    const { identity } = auth;
    if (identity?.expiresAt !== undefined) deps.expiry.arm(actor, identity.expiresAt);
    deps.log.info('ws.handshake', {
      outcome: 'accepted',
      source: auth.source,
      path: auth.path,
      connectionId: auth.connectionId,
      contextId: identity!.contextId,
      userId: identity!.userId,
      ip: clientAddress(ctx),
    });
  });
}

/**
 * Who and where the client is, as sessions and the origin check see it.
 *
 * Behind a reverse proxy (`server.trustProxy`), the address is read from
 * X-Forwarded-For: each trusted proxy appends the address it received the request
 * from, so the client is `server.proxyHops` entries from the right. Entries further
 * left were written by the client itself and are never trusted (a client cannot
 * spoof its address, or a session's IP check, by sending the header). With
 * `server.trustedProxies` set, the headers are believed only from those peers.
 * The host the browser used comes from X-Forwarded-Host by the same rule, so the
 * same-origin check works behind a proxy that rewrites Host; the scheme it used
 * comes from the socket (TLS or not), or from a trusted proxy's X-Forwarded-Proto
 * (else `Forwarded: proto=`, RFC 7239), so the check compares schemes too.
 */
import type { Context } from 'koa';

/** The schemes a request can have been made with, as an Origin spells them. */
export type Scheme = 'http' | 'https';

export interface ProxySettings {
  trustProxy: boolean;
  proxyHops: number;
  trustedProxies?: string[];
}

/** The address resolved for this request by `resolveClientAddress` (the app does it first). */
export function clientAddress(ctx: Context): string {
  return (ctx.state as { clientAddress?: string }).clientAddress ?? resolveClientAddress(ctx);
}

export function resolveClientAddress(ctx: Context, proxy?: ProxySettings): string {
  const peer = normalize(ctx.req.socket.remoteAddress ?? '');
  return normalize(forwarded(ctx, 'X-Forwarded-For', peer, proxy) ?? peer);
}

/** The Host the client asked for: X-Forwarded-Host from a trusted proxy, else Host. */
export function requestedHost(ctx: Context, proxy?: ProxySettings): string {
  const peer = normalize(ctx.req.socket.remoteAddress ?? '');
  return forwarded(ctx, 'X-Forwarded-Host', peer, proxy) ?? ctx.host;
}

/**
 * The scheme the client used: `https` when this socket is TLS; else what a trusted
 * proxy says (X-Forwarded-Proto, else the `proto` of RFC 7239's Forwarded), by the
 * hop rule of X-Forwarded-For; else `http`. Anyone else's header is ignored: a
 * client reaching a plain-HTTP node directly cannot claim it spoke https.
 */
export function requestedScheme(ctx: Context, proxy?: ProxySettings): Scheme {
  if ((ctx.req.socket as { encrypted?: boolean }).encrypted) return 'https';
  const peer = normalize(ctx.req.socket.remoteAddress ?? '');
  const claimed = forwarded(ctx, 'X-Forwarded-Proto', peer, proxy) ?? forwardedProto(ctx, peer, proxy);
  const scheme = claimed?.toLowerCase();
  return scheme === 'https' || scheme === 'http' ? scheme : 'http';
}

/** The `proto` parameter of the Forwarded element the nearest trusted proxy added. */
function forwardedProto(ctx: Context, peer: string, proxy?: ProxySettings): string | undefined {
  const element = forwarded(ctx, 'Forwarded', peer, proxy);
  if (!element) return undefined;
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'proto') return pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

function forwarded(ctx: Context, header: string, peer: string, proxy?: ProxySettings): string | undefined {
  if (!proxy?.trustProxy) return undefined;
  if (proxy.trustedProxies?.length && !proxy.trustedProxies.includes(peer)) return undefined;
  const value = ctx.get(header);
  if (!value) return undefined;
  const hops = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  return hops[Math.max(0, hops.length - proxy.proxyHops)];
}

function normalize(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

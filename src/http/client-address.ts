/**
 * The client's address as sessions record it: IPv4-mapped IPv6 reduced to IPv4.
 *
 * Behind a reverse proxy (`server.trustProxy`), the address is read from
 * X-Forwarded-For: each trusted proxy appends the address it received the request
 * from, so the client is `server.proxyHops` entries from the right. Entries further
 * left were written by the client itself and are never trusted (a client cannot
 * spoof its address, or a session's IP check, by sending the header).
 */
import type { Context } from 'koa';

export interface ProxySettings {
  trustProxy: boolean;
  proxyHops: number;
}

/** The address resolved for this request by `resolveClientAddress` (the app does it first). */
export function clientAddress(ctx: Context): string {
  return (ctx.state as { clientAddress?: string }).clientAddress ?? resolveClientAddress(ctx);
}

export function resolveClientAddress(ctx: Context, proxy?: ProxySettings): string {
  const peer = ctx.req.socket.remoteAddress ?? '';
  let ip = peer;
  if (proxy?.trustProxy) {
    const header = ctx.get('X-Forwarded-For');
    if (header) {
      const hops = header.split(',').map((entry) => entry.trim()).filter(Boolean);
      ip = hops[Math.max(0, hops.length - proxy.proxyHops)] ?? peer;
    }
  }
  return normalize(ip);
}

function normalize(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

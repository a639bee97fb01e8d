/** The client's address as sessions record it: IPv4-mapped IPv6 reduced to IPv4. */
import type { Context } from 'koa';

export function clientAddress(ctx: Context): string {
  const ip = ctx.ip || ctx.req.socket.remoteAddress || '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

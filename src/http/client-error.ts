/**
 * Requests Node's HTTP parser refuses before any route sees them (a malformed
 * request line or header, headers over `--max-http-header-size`, a request not
 * complete within `server.headersTimeout`). Node's default answer is a bare
 * `HTTP/1.1 400` with no body; wsmesh answers these like every other refusal, with
 * the catalogue's status and `{error,message}`, then closes the connection (the
 * parser cannot read what follows). Node's own mapping of parser errors to statuses
 * (lib/_http_server.js, socketOnError) is kept.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Middleware } from 'koa';
import { ERRORS, WsmeshError, type ErrorCode } from '../errors.ts';

/** Parser error code -> catalogue code; anything else is a malformed request. */
const CODES: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'ERR_HEADERS_TOO_LARGE',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'ERR_PAYLOAD_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
};

/** The raw answer for a parser error: status line, JSON body, `Connection: close`. */
export function clientErrorAnswer(errorCode: string | undefined): string {
  const code = CODES[errorCode ?? ''] ?? 'ERR_BAD_REQUEST';
  const body = JSON.stringify(new WsmeshError(code, code === 'ERR_BAD_REQUEST' ? 'The request is not valid HTTP/1.1' : undefined));
  return [`HTTP/1.1 ${ERRORS[code].status} ${code}`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body].join('\r\n');
}

export function attachClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    // As Node does: answer only when nothing of a response was written yet.
    if (socket.writable && !socket.bytesWritten && error.code !== 'ECONNRESET') socket.end(clientErrorAnswer(error.code));
    socket.destroy();
  });
}

/**
 * RFC 9112 section 3.2: an HTTP/1.1 request without Host is a 400. Node checks it
 * itself unless `requireHostHeader` is off, but answers with an empty body; the
 * server turns that off (node.ts) and this middleware answers in the catalogue's form.
 */
export const requireHost: Middleware = (ctx, next) => {
  if (ctx.req.httpVersion === '1.1' && ctx.req.headers.host === undefined) throw new WsmeshError('ERR_BAD_REQUEST', 'An HTTP/1.1 request needs a Host header');
  return next();
};

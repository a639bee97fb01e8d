/**
 * Where an upgrade's JWT comes from: `?token=` (a browser cannot set headers on a
 * WebSocket, so the query is the one place a script can put it), else a cookie the
 * application set. Pure: no I/O, exhaustively tested in spec/auth/token-source.spec.ts.
 */

/**
 * The token of an upgrade: the first `token` query value when it is not empty, else
 * the first non-empty value of the cookie `cookieName` (none when `cookieName` is '').
 */
export function tokenOf(query: URLSearchParams | Record<string, unknown>, cookieHeader: string | undefined, cookieName: string): string | undefined {
  const fromQuery = queryToken(query);
  if (fromQuery) return fromQuery;
  if (!cookieName || !cookieHeader) return undefined;
  return cookieValue(cookieHeader, cookieName);
}

/** The first `token` value, as URLSearchParams.get() and Koa's ctx.query (string or array) give it. */
function queryToken(query: URLSearchParams | Record<string, unknown>): string | undefined {
  const value = query instanceof URLSearchParams ? query.get('token') : Array.isArray(query.token) ? query.token[0] : query.token;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The first non-empty value of cookie `name` in a Cookie header (RFC 6265 section 5.4:
 * `name=value` pairs separated by `; `). A client may send one name twice (cookies of
 * different paths or domains); browsers put the most specific first, so the first wins.
 * Values may be quoted (section 4.1.1) or percent-encoded (what most frameworks write).
 */
export function cookieValue(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = decode(unquote(pair.slice(eq + 1).trim()));
    if (value !== '') return value;
  }
  return undefined;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** A malformed percent escape is kept as it came, as the `cookie` package does. */
function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

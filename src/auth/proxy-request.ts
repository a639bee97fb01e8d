/**
 * What the node tells the connect proxy about an upgrade (pure). The JSON is a contract
 * applications code against (docs/auth.md):
 * `{"path", "query", "clientAddress", "origin", "headers"}`, where `query` holds the upgrade's
 * query parameters, `origin` is null when the upgrade sent none, and `headers` holds only the
 * configured names (lower case) that the upgrade carried.
 */

/** The upgrade, as the handshake sees it. */
export interface UpgradeRequest {
  /** The request path, without the query. */
  path: string;
  query: Record<string, string>;
  /** The client's address (behind trusted proxies, the forwarded one). */
  clientAddress: string;
  origin?: string;
  /** Node's `IncomingHttpHeaders` (lower-case names; other casings are found too). */
  headers: Record<string, string | string[] | undefined>;
}

/** The JSON body POSTed to the connect proxy. */
export interface ProxyRequestBody {
  path: string;
  query: Record<string, string>;
  clientAddress: string;
  /** Always present, null when absent, so typed clients need no "missing key" case. */
  origin: string | null;
  headers: Record<string, string>;
}

/** The body for `request`, passing on the headers named in `names` (any case). */
export function proxyRequestBody(request: UpgradeRequest, names: readonly string[]): ProxyRequestBody {
  return {
    path: request.path,
    // fromEntries defines keys, so a `?__proto__=` parameter stays a plain key.
    query: Object.fromEntries(Object.entries(request.query)),
    clientAddress: request.clientAddress,
    origin: request.origin ?? null,
    headers: passedHeaders(request.headers, names),
  };
}

function passedHeaders(headers: UpgradeRequest['headers'], names: readonly string[]): Record<string, string> {
  const byName = new Map<string, string | string[]>();
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) byName.set(name.toLowerCase(), value);
  const passed: Record<string, string> = {};
  for (const name of new Set(names.map((n) => n.toLowerCase()))) {
    const value = byName.get(name);
    if (value === undefined) continue;
    // Repeated fields are combined as RFC 9110 section 5.3 says; cookies with "; " (RFC 6265 section 5.4).
    passed[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return passed;
}

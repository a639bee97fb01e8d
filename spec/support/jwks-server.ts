/**
 * A real JWKS endpoint on loopback for the JWT verifier's tests: serves `{keys}` as the
 * test sets them, counts requests, and can answer badly (500, not JSON, no keys, never)
 * or be shut down to look like an issuer that is down.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

export type JwksMode = 'ok' | 'http-500' | 'not-json' | 'no-keys' | 'hang';

export interface JwksServer {
  url: string;
  /** What `ok` answers; replace it to rotate keys. */
  keys: JWK[];
  mode: JwksMode;
  /** Requests received. */
  requests: number;
  /** Stops answering and refuses connections (the port stays known). */
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[] = []): Promise<JwksServer> {
  const hanging = new Set<ServerResponse>();
  const state: JwksServer = {
    url: '',
    keys,
    mode: 'ok',
    requests: 0,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    state.requests++;
    switch (state.mode) {
      case 'ok':
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
      case 'http-500':
        return void response.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      case 'not-json':
        return void response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      case 'no-keys':
        return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": "none"}');
      case 'hang':
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return state;
}

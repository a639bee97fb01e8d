/**
 * The reverse-proxy configurations, from one template each: the example files in
 * `config/proxy/` are `render*(EXAMPLE_SITE)`, and the proxy suites run
 * `render*(<loopback ports of the test nodes>)`. What the tests exercise is what
 * ships; `configs.spec.ts` fails when an example file drifts from its template.
 *
 * Regenerate the examples after changing a template:
 *
 *     npx tsx spec/proxy/configs.ts --write
 *
 * docs/proxy.md explains every directive.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One wsmesh node behind the proxy. `route` is the node's `server.route` (`--route`). */
export interface ProxyMember {
  host: string;
  port: number;
  route: string;
}

export interface ProxySite {
  /** Where the proxy listens: `*:80` style for Apache's VirtualHost, `80` / `127.0.0.1:8080` for nginx's `listen`. */
  listen: { apache: string; nginx: string };
  serverName: string;
  members: ProxyMember[];
  /**
   * Seconds a proxied connection may stay silent. It must exceed the nodes'
   * `websockets.pingInterval` (25 s by default): a socket hears a ping (and answers
   * a pong) at least that often, so only a dead one is cut.
   */
  timeoutSeconds: number;
}

/** The example deployment of `config/proxy/*`: two nodes, as in the reference's Apache example. */
export const EXAMPLE_SITE: ProxySite = {
  listen: { apache: '*:80', nginx: '80' },
  serverName: 'wsmesh.example.com',
  members: [
    { host: 'ox1.example.com', port: 8009, route: 'OX1' },
    { host: 'ox2.example.com', port: 8009, route: 'OX2' },
  ],
  timeoutSeconds: 100,
};

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const APACHE_EXAMPLE = `${ROOT}config/proxy/apache-wsmesh.conf`;
export const NGINX_EXAMPLE = `${ROOT}config/proxy/nginx-wsmesh.conf`;

const ROUTE = /^[A-Za-z0-9_-]+$/;

function checkSite(site: ProxySite): void {
  if (site.members.length === 0) throw new Error('a proxy site needs at least one member');
  const routes = new Set<string>();
  for (const { route } of site.members) {
    // The node's schema allows these characters only; they are also safe as nginx upstream names.
    if (!ROUTE.test(route)) throw new Error(`route "${route}" must match ${ROUTE}`);
    if (routes.has(route)) throw new Error(`route "${route}" is used twice: every node needs its own`);
    routes.add(route);
  }
}

// ---------------------------------------------------------------- Apache httpd 2.4

/**
 * A site for Apache httpd 2.4 (Debian: /etc/apache2/sites-available/wsmesh.conf).
 * It is the reference's configuration (two balancers, routes, `stickysession`) with
 * Apache 2.4 access control and the wsmesh paths.
 */
export function renderApacheSite(site: ProxySite): string {
  checkSite(site);
  const member = (scheme: string, m: ProxyMember) =>
    `        BalancerMember ${scheme}://${m.host}:${m.port} route=${m.route} timeout=${site.timeoutSeconds} smax=0 ttl=60 retry=60 loadfactor=50 keepalive=On`;
  const balancer = (name: string, scheme: string) => [
    `    <Proxy balancer://${name}>`,
    ...site.members.map((m) => member(scheme, m)),
    '        ProxySet stickysession=JSESSIONID|jsessionid scolonpathdelim=On',
    '        Require all granted',
    '    </Proxy>',
  ];
  return [
    '# wsmesh behind Apache httpd 2.4: sticky by the route in JSESSIONID, WebSockets tunnelled.',
    '# Generated from spec/proxy/configs.ts (the proxy suites run the same template);',
    '# docs/proxy.md explains every line.',
    '#',
    '# Modules (Debian):  a2enmod proxy proxy_http proxy_balancer lbmethod_byrequests proxy_wstunnel headers',
    '# Install (Debian):  cp apache-wsmesh.conf /etc/apache2/sites-available/wsmesh.conf && a2ensite wsmesh',
    '#',
    '# The contract with the nodes:',
    '# - each member\'s route= is that node\'s server.route (--route): a node issues',
    '#   JSESSIONID=<random>.<route> at login, and Apache sends every request carrying',
    '#   that cookie to the member with that route (the part after the first ".");',
    '# - the nodes run with server.trustProxy=true (one proxy: server.proxyHops=1), since',
    '#   mod_proxy appends the client\'s address to X-Forwarded-For;',
    `# - timeout=${site.timeoutSeconds} (seconds) exceeds websockets.pingInterval (25 s): an idle but`,
    '#   live socket is never cut.',
    '',
    `<VirtualHost ${site.listen.apache}>`,
    `    ServerName ${site.serverName}`,
    '    # A tunnelled socket is cut after the larger of this and the members\' timeout=',
    '    # seconds without a frame either way: both above websockets.pingInterval.',
    `    Timeout ${site.timeoutSeconds}`,
    '',
    '    # HTTP API (login, logout, session, push, admin) and health checks.',
    ...balancer('wsmesh', 'http'),
    '',
    '    # WebSockets: the same nodes with the same routes, as ws:// (mod_proxy_wstunnel).',
    ...balancer('wsmesh_ws', 'ws'),
    '',
    '    # Forward the Host the browser used: a node accepts a same-origin Origin header',
    '    # only when it equals the Host it receives.',
    '    ProxyPreserveHost On',
    '    # mod_proxy adds X-Forwarded-For (the client address), -Host and -Server itself.',
    '    RequestHeader set X-Forwarded-Proto "expr=%{REQUEST_SCHEME}"',
    '',
    '    # Longest paths first: the first ProxyPass that matches wins.',
    '    ProxyPass        /socket.io balancer://wsmesh_ws/socket.io',
    '    ProxyPass        /ws        balancer://wsmesh_ws/ws',
    '    ProxyPass        /api       balancer://wsmesh/api',
    '    ProxyPassReverse /api       balancer://wsmesh/api',
    '    ProxyPass        /          balancer://wsmesh/',
    '    ProxyPassReverse /          balancer://wsmesh/',
    '</VirtualHost>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- nginx

/** The nginx upstream holding `route`'s node (the sticky target). */
export function nginxUpstreamName(route: string): string {
  return `wsmesh_${route}`;
}

/**
 * An `http`-context file for nginx (Debian: /etc/nginx/conf.d/wsmesh.conf). nginx
 * open source has no `sticky` directive: a map reads the route from JSESSIONID as
 * Apache does, and picks a per-route upstream.
 */
export function renderNginxSite(site: ProxySite): string {
  checkSite(site);
  const width = Math.max('default'.length, ...site.members.map((m) => m.route.length));
  const server = (m: ProxyMember, backup: boolean) => `    server ${m.host}:${m.port}${backup ? ' backup' : ''};`;
  const perRoute = site.members.flatMap((m) => [
    `upstream ${nginxUpstreamName(m.route)} {`,
    server(m, false),
    ...site.members.filter((other) => other !== m).map((other) => server(other, true)),
    '}',
  ]);
  return [
    '# wsmesh behind nginx: sticky by the route in JSESSIONID, WebSockets upgraded.',
    '# Generated from spec/proxy/configs.ts (the proxy suites run the same template);',
    '# docs/proxy.md explains every line.',
    '#',
    '# Install (Debian):  cp nginx-wsmesh.conf /etc/nginx/conf.d/wsmesh.conf   (http context)',
    '#',
    '# The contract with the nodes:',
    '# - each route below is a node\'s server.route (--route): a node issues',
    '#   JSESSIONID=<random>.<route> at login; requests carrying it go to that node;',
    '# - the nodes run with server.trustProxy=true (one proxy: server.proxyHops=1), since',
    '#   X-Forwarded-For gets the client\'s address appended below;',
    `# - proxy_read_timeout ${site.timeoutSeconds}s exceeds websockets.pingInterval (25 s): an idle`,
    '#   but live socket is never cut.',
    '',
    '# Connection: upgrade only when the client asked for an upgrade.',
    'map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    ''      close;",
    '}',
    '',
    '# The route: what follows the first "." of the JSESSIONID cookie (as Apache reads it).',
    'map $cookie_JSESSIONID $wsmesh_route {',
    '    "~^[^.]*\\.(.+)$" $1;',
    '    default "";',
    '}',
    '',
    '# The upstream for that route; no cookie, or a route no node has: round robin.',
    'map $wsmesh_route $wsmesh_upstream {',
    ...site.members.map((m) => `    ${m.route.padEnd(width)} ${nginxUpstreamName(m.route)};`),
    `    ${'default'.padEnd(width)} wsmesh;`,
    '}',
    '',
    'upstream wsmesh {',
    ...site.members.map((m) => server(m, false)),
    '}',
    '',
    '# One upstream per route: its node, then the others as backup, so that when the',
    '# node is down its clients fail over (sessions are cluster-wide).',
    ...perRoute,
    '',
    'server {',
    `    listen ${site.listen.nginx};`,
    `    server_name ${site.serverName};`,
    '',
    '    location / {',
    '        # A variable naming an upstream group: no resolver needed.',
    '        proxy_pass http://$wsmesh_upstream;',
    '',
    '        # WebSocket upgrade (RFC 6455 over HTTP/1.1).',
    '        proxy_http_version 1.1;',
    '        proxy_set_header Upgrade $http_upgrade;',
    '        proxy_set_header Connection $connection_upgrade;',
    '',
    '        # The Host the browser used: a node accepts a same-origin Origin header only',
    '        # when it equals the Host it receives.',
    '        proxy_set_header Host $http_host;',
    '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '        proxy_set_header X-Forwarded-Proto $scheme;',
    '',
    `        proxy_read_timeout ${site.timeoutSeconds}s;`,
    `        proxy_send_timeout ${site.timeoutSeconds}s;`,
    '    }',
    '}',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- examples

export function renderExamples(): Record<string, string> {
  return { [APACHE_EXAMPLE]: renderApacheSite(EXAMPLE_SITE), [NGINX_EXAMPLE]: renderNginxSite(EXAMPLE_SITE) };
}

/** `npx tsx spec/proxy/configs.ts --write` rewrites the examples; without `--write`, lists the stale ones (exit 1). */
function main(argv: string[]): number {
  let stale = 0;
  for (const [file, text] of Object.entries(renderExamples())) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing: stale
    }
    if (current === text) continue;
    if (argv.includes('--write')) {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${file}\n`);
    } else {
      stale++;
      process.stdout.write(`stale: ${file} (run with --write)\n`);
    }
  }
  return stale ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));

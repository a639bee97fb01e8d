/**
 * wsmesh behind nginx (sticky by the route in JSESSIONID through maps and per-route
 * upstreams, WebSocket upgrade), run from the template of config/proxy/nginx-wsmesh.conf.
 * The scenarios are shared with apache.spec.ts (./scenarios.ts).
 */
import { describeProxy } from './scenarios.ts';
import { nginx } from './support.ts';

describeProxy(nginx);

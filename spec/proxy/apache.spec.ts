/**
 * wsmesh behind Apache httpd 2.4 (mod_proxy_balancer sticky by JSESSIONID,
 * mod_proxy_wstunnel), run from the template of config/proxy/apache-wsmesh.conf.
 * The scenarios are shared with nginx.spec.ts (./scenarios.ts).
 */
import { describeProxy } from './scenarios.ts';
import { apache } from './support.ts';

describeProxy(apache);

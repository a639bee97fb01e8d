/**
 * The demo page at `/`: static files read once at start, no build step. Served
 * with a strict Content-Security-Policy (scripts and styles from this origin only).
 */
import { readFileSync } from 'node:fs';
import type { Router } from '../router.ts';

const PUBLIC = new URL('../public/', import.meta.url);

const FILES: Array<[path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/app.css', 'app.css', 'text/css; charset=utf-8'],
];

const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'";

export function pageRoutes(router: Router): void {
  for (const [path, file, type] of FILES) {
    const body = readFileSync(new URL(file, PUBLIC));
    router.on('GET', path, (ctx) => {
      ctx.type = type;
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = body;
    });
  }
}

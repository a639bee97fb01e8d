/** The application's ways in, built from auth.* (PLACEHOLDER until the JWT and proxy modules land). */
import type { AuthConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { NodeMetrics } from '../metrics/metrics.ts';
import type { AuthSources } from './sources.ts';

export function createAuthSources(_settings: AuthConfig, _deps: { log: Logger; metrics: NodeMetrics }): AuthSources {
  return {};
}

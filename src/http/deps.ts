/**
 * What the HTTP layer needs from the node. `live` holds the values a reload swaps
 * (config, directory): handlers read them per request, never capture them.
 */
import type { WebSocketServer } from 'ws';
import type { Config } from '../config/types.ts';
import type { Directory } from '../directory/directory.ts';
import type { EnabledResolver } from '../directory/enabled-cache.ts';
import type { SessionStore } from '../session/store.ts';
import type { WebSocketService } from '../delivery/service.ts';
import type { NodeStats } from '../delivery/stats.ts';
import type { NodeSupervisor } from '../actors/node.actor.ts';
import type { ProtocolFactory } from '../protocol/wire-protocol.ts';
import type { ConnectionHooks } from '../actors/connection.machine.ts';
import type { Logger } from '../log/logger.ts';
import type { InspectorHub } from '../inspect/hub.ts';
import type { NodeMetrics } from '../metrics/metrics.ts';
import type { AuthSources } from '../auth/sources.ts';
import type { SocketExpiry } from '../auth/expiry.ts';
import type { ConnectionActor } from '../actors/connection.machine.ts';
import type { Queries } from '../cluster/queries.ts';
import type { SlicedQueue } from '../time/sliced-queue.ts';

export interface Live {
  config: Config;
  directory: Directory;
}

export interface AppDeps {
  live: Live;
  sessions: SessionStore;
  service: WebSocketService;
  supervisor: NodeSupervisor;
  stats: NodeStats;
  enabled: EnabledResolver;
  protocols: ProtocolFactory;
  /** Given to every connection actor: counting and inbound routing. */
  hooks: ConnectionHooks;
  wss: WebSocketServer;
  log: Logger;
  metrics: NodeMetrics;
  /** What readiness is judged on (routes/health.ts): accepting sockets, and the broker link's state ('none' alone). */
  probes: { accepting(): boolean; broker(): string };
  /** The live inspector's model of this node's actors (routes/inspector.ts). */
  inspector?: InspectorHub;
  /** The application's ways in besides wsmesh sessions: its JWTs, its connect proxy (auth/sources.ts). */
  auth: AuthSources;
  /** Closes sockets whose authentication expires (a token's exp, the proxy's expiresAt). */
  expiry: SocketExpiry<ConnectionActor>;
  /** Questions to every live node, this one included (cluster/queries.ts): cluster-wide admin answers. */
  queries: Queries;
  /** Upgrades and socket closes, handled in slices between turns of the event loop (time/sliced-queue.ts). */
  admission: SlicedQueue;
}

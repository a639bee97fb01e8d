/**
 * The node supervisor as the upgrade pipeline uses it: spawn a connection actor, then
 * admit it once authenticated. Both are synchronous calls that read the machine's
 * state (only `running` accepts sockets) and run node.machine.ts's own functions: a
 * handshake takes no supervisor event. The two events it took, with reply callbacks
 * in them, cost about 55 us a handshake under the profiler besides the work itself
 * (the supervisor always carries the inspector's observer, so each event also built
 * three inspection events), and a reply callback made the events unrecordable.
 */
import { createActor } from 'xstate';
import { admitConnection, nodeMachine, spawnConnection, type Admission, type NodeInput } from './node.machine.ts';
import type { ConnectionActor, ConnectionInput, ConnectionPortsInput } from './connection.machine.ts';
import type { ErrorCode } from '../errors.ts';

export type NodeSupervisorActor = ReturnType<typeof createNodeSupervisor>;

export function createNodeSupervisor(input: NodeInput) {
  return createActor(nodeMachine, { input, inspect: input.inspect, systemId: 'node' });
}

export class NodeSupervisor {
  constructor(readonly actor: NodeSupervisorActor) {}

  /** A connection actor in `upgrade`, or undefined when the node no longer accepts sockets. */
  spawn(input: ConnectionInput, ports: ConnectionPortsInput): ConnectionActor | undefined {
    if (!this.accepting()) return undefined;
    return spawnConnection(this.actor.getSnapshot().context, this.actor, input, ports);
  }

  /** Indexes the connection, or says why not (id in use, limit, shutting down). */
  admit(actor: ConnectionActor, admission: Admission): ErrorCode | undefined {
    if (!this.accepting()) return 'ERR_SHUTTING_DOWN';
    return admitConnection(this.actor.getSnapshot().context, actor, admission);
  }

  accepting(): boolean {
    return this.actor.getSnapshot().matches('running');
  }
}

/**
 * Promise-shaped access to the supervisor's spawn and admit steps, for the upgrade
 * pipeline. The supervisor answers synchronously, through the event's reply.
 */
import { createActor } from 'xstate';
import { nodeMachine, type Admission, type NodeInput } from './node.machine.ts';
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
    let spawned: ConnectionActor | undefined;
    this.actor.send({ type: 'conn.spawn', input, ports, reply: (actor) => (spawned = actor) });
    return spawned;
  }

  /** Indexes the connection, or says why not (id in use, limit, shutting down). */
  admit(actor: ConnectionActor, admission: Admission): ErrorCode | undefined {
    let refusal: ErrorCode | undefined = 'ERR_SHUTTING_DOWN';
    this.actor.send({ type: 'conn.admit', actor, admission, reply: (code) => (refusal = code) });
    return refusal;
  }

  accepting(): boolean {
    return this.actor.getSnapshot().matches('running');
  }
}

/**
 * socket.io-client 2.x (Engine.IO v3), installed under the alias `socket.io-client-v2`,
 * ships no types: the part of its API the specs use.
 */
declare module 'socket.io-client-v2' {
  type Listener = (...args: any[]) => void;

  interface Emitter<Self> {
    on(event: string, listener: Listener): Self;
    once(event: string, listener: Listener): Self;
    off(event?: string, listener?: Listener): Self;
  }

  export interface ManagerV2 extends Emitter<ManagerV2> {
    reconnection(): boolean;
  }

  export interface SocketV2 extends Emitter<SocketV2> {
    /** The Engine.IO session id (2.x has no per-namespace id). */
    readonly id: string;
    readonly connected: boolean;
    readonly disconnected: boolean;
    readonly io: ManagerV2;
    emit(event: string, ...args: any[]): SocketV2;
    open(): SocketV2;
    close(): SocketV2;
    disconnect(): SocketV2;
  }

  export interface OptionsV2 {
    path?: string;
    transports?: string[];
    query?: Record<string, string> | string;
    extraHeaders?: Record<string, string>;
    transportOptions?: Record<string, unknown>;
    forceNew?: boolean;
    reconnection?: boolean;
    reconnectionDelay?: number;
    reconnectionDelayMax?: number;
    timeout?: number;
  }

  /** `io(uri, options)`: the module itself is the function (CommonJS `module.exports`). */
  export default function lookup(uri: string, options?: OptionsV2): SocketV2;
}

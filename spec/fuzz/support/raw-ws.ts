/**
 * A WebSocket client at the byte level, for fuzzing: it writes an HTTP/1.1 upgrade
 * request as given, then frames that `ws` would never build (bad opcodes, RSV bits,
 * wrong lengths, unmasked, fragmented), and reads the server's frames and its close
 * code. RFC 6455 section 5.2 is the layout.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export const OPCODES = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** RSV1-3 as the high bits (0-7). */
  rsv?: number;
  /** Clients must mask (section 5.3); false writes an unmasked frame. */
  mask?: boolean;
  /** A length field that lies about the payload. */
  declaredLength?: number;
}

export function encodeFrame(spec: FrameSpec): Buffer {
  const { opcode, payload, fin = true, rsv = 0, mask = true } = spec;
  const length = spec.declaredLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

export function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code & 0xffff, 0);
  out.write(reason, 2);
  return out;
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Splits a byte stream into frames (masked or not); an incomplete tail stays buffered. */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  readonly frames: Frame[] = [];

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = this.next();
      if (!frame) return;
      this.frames.push(frame);
    }
  }

  private next(): Frame | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(1 << 30)) return undefined; // a lie this reader will not wait for
      length = Number(big);
      offset = 10;
    }
    const masked = (b[1] & 0x80) !== 0;
    const key = masked ? b.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (b.length < offset + length) return undefined;
    const payload = Buffer.from(b.subarray(offset, offset + length));
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    this.buffer = b.subarray(offset + length);
    return { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0xf, payload };
  }
}

/** The close codes in the complete close frames of a client's byte stream (what the server may echo). */
export function closeCodesIn(bytes: Buffer): Set<number> {
  const reader = new FrameReader();
  reader.push(bytes);
  return new Set(reader.frames.filter((f) => f.opcode === OPCODES.close && f.payload.length >= 2).map((f) => f.payload.readUInt16BE(0)));
}

export interface UpgradeAnswer {
  socket: Socket;
  status: number;
  headers: string;
  /** Bytes after the header block: a refusal's body, or the first frames. */
  rest: Buffer;
}

/** An upgrade request's text: `GET <target>` with the WebSocket headers and `extra` lines. */
export function upgradeRequest(target: string, extra: string[] = []): string {
  const key = randomBytes(16).toString('base64');
  return [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n');
}

/**
 * Writes `request` (in the given pieces) and reads up to the end of the header
 * block. Resolves with status 0 when the server closed without an HTTP answer, or
 * -1 when it said nothing within `timeoutMs`.
 */
export function sendUpgrade(port: number, request: Buffer | Buffer[], timeoutMs = 3000): Promise<UpgradeAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (status: number, headers = '', rest = Buffer.alloc(0)) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ socket, status, headers, rest });
    };
    const timer = setTimeout(() => finish(-1), timeoutMs);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = received.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1] ?? 0);
      finish(status, headers, received.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.on('error', () => finish(0));
    socket.on('close', () => finish(0));
    socket.on('connect', () => {
      for (const piece of Array.isArray(request) ? request : [request]) socket.write(piece);
    });
  });
}

/** Reads a refusal's body to its end (Content-Length or the close), at most `max` bytes. */
export function readBody(answer: UpgradeAnswer, max = 1 << 16, timeoutMs = 2000): Promise<Buffer> {
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(answer.headers)?.[1] ?? NaN);
  return new Promise((resolve) => {
    let body = answer.rest;
    const { socket } = answer;
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(body);
    };
    const timer = setTimeout(done, timeoutMs);
    const onData = (chunk: Buffer) => {
      body = Buffer.concat([body, chunk]);
      if (body.length >= max || body.length >= length) done();
    };
    if (body.length >= length || socket.destroyed) return done();
    socket.on('data', onData);
    socket.once('close', done);
  });
}

export interface Exchange {
  /** The server's close code; undefined for a close frame without one; 1006 when the TCP connection ended without a close frame. */
  closeCode: number | undefined;
  /** The server did not close within the time: the socket is still open. */
  timedOut: boolean;
  frames: Frame[];
}

/**
 * On an upgraded socket: writes each part, then a close frame (1000) so that every
 * exchange ends, and waits for the server's close frame or the end of the stream.
 */
export function exchange(answer: UpgradeAnswer, parts: Buffer[], timeoutMs = 1500): Promise<Exchange> {
  const { socket } = answer;
  const reader = new FrameReader();
  return new Promise((resolve) => {
    let done = false;
    const finish = (closeCode: number | undefined, timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
      resolve({ closeCode, timedOut, frames: reader.frames });
    };
    const onData = (chunk: Buffer) => {
      reader.push(chunk);
      const close = reader.frames.find((f) => f.opcode === OPCODES.close);
      if (close) finish(close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined);
    };
    const timer = setTimeout(() => finish(undefined, true), timeoutMs);
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.once('close', () => finish(1006));
    onData(answer.rest);
    if (done) return;
    for (const part of parts) if (!socket.destroyed) socket.write(part);
    if (!socket.destroyed) socket.write(encodeFrame({ opcode: OPCODES.close, payload: closePayload(1000) }));
  });
}

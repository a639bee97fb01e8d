/**
 * Target `ws-frames`: raw WebSocket frames on authenticated sockets of `/ws/...`
 * (the raw protocol): text, invalid UTF-8, binary, fragmented, huge, reserved
 * opcodes and RSV bits, unmasked, control frames of every size and close codes of
 * every range, and byte-level damage to all of them. Each input is one socket:
 * a real upgrade with the session and its cookie, the frames, then a close 1000.
 * The oracle: the close code the server ends with is documented (or the echo of
 * the client's own close), and the node lives on.
 */
import type { Random } from '../../support/random.ts';
import type { FuzzTarget, FuzzInput, Verdict } from '../support/engine.ts';
import { mutateBytes, oddString, randomBytes, randomText, INVALID_UTF8, BOUNDARY_NUMBERS } from '../support/mutate.ts';
import { judgeClose } from '../support/oracle.ts';
import { closeCodesIn, closePayload, encodeFrame, exchange, OPCODES, sendUpgrade, upgradeRequest, type FrameSpec } from '../support/raw-ws.ts';
import { startFuzzNode, type FuzzNode } from '../support/standalone.ts';

/** websockets.maxPayload's default: frames around it are the interesting ones. */
const MAX_PAYLOAD = 65536;

const CLOSE_CODES = [999, 1000, 1001, 1002, 1004, 1005, 1006, 1007, 1012, 1014, 1015, 1016, 2999, 3000, 3999, 4000, 4400, 4999, 5000, 65535];

function frameSpec(rng: Random): FrameSpec {
  switch (rng.int(14)) {
    case 0:
      return { opcode: OPCODES.text, payload: Buffer.from(oddString(rng, 70_000)) };
    case 1:
      return { opcode: OPCODES.text, payload: Buffer.concat([Buffer.from(randomText(rng, 20)), rng.pick(INVALID_UTF8)]) };
    case 2:
      return { opcode: OPCODES.binary, payload: randomBytes(rng, 64) };
    case 3:
      return { opcode: rng.pick([OPCODES.ping, OPCODES.pong]), payload: randomBytes(rng, rng.next() < 0.8 ? 125 : 300) };
    case 4:
      return { opcode: OPCODES.close, payload: rng.next() < 0.8 ? closePayload(rng.pick(CLOSE_CODES), oddString(rng, 200)) : randomBytes(rng, 3) };
    case 5:
      return { opcode: rng.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload: randomBytes(rng, 16) };
    case 6:
      return { opcode: OPCODES.text, payload: Buffer.from('x'), rsv: 1 + rng.int(7) };
    case 7:
      return { opcode: OPCODES.text, payload: Buffer.from(randomText(rng, 8)), mask: false };
    case 8:
      // A length that lies: over maxPayload (refused at the header) or just over what follows.
      return { opcode: OPCODES.text, payload: Buffer.from('abc'), declaredLength: rng.pick([MAX_PAYLOAD + 1, 2 ** 32, 2 ** 53 - 1, 126, 5]) };
    case 9:
      return { opcode: OPCODES.text, payload: Buffer.alloc(MAX_PAYLOAD + rng.pick([-1, 0, 1]), 0x61) };
    case 10:
      return { opcode: OPCODES.continuation, payload: Buffer.from(randomText(rng, 8)), fin: rng.next() < 0.5 };
    case 11:
      return { opcode: rng.pick([OPCODES.ping, OPCODES.close]), payload: Buffer.from('p'), fin: false };
    case 12:
      return { opcode: OPCODES.text, payload: Buffer.from(String(rng.pick(BOUNDARY_NUMBERS))) };
    default:
      return { opcode: OPCODES.text, payload: Buffer.from(JSON.stringify({ type: oddString(rng, 64), data: oddString(rng, 64) })) };
  }
}

/** A fragmented message: a first frame without FIN, continuations, sometimes a control frame between. */
function fragmented(rng: Random): Buffer[] {
  const opcode = rng.pick([OPCODES.text, OPCODES.binary]);
  const pieces = 2 + rng.int(5);
  const out: Buffer[] = [];
  for (let i = 0; i < pieces; i++) {
    const last = i === pieces - 1 && rng.next() < 0.85;
    out.push(encodeFrame({ opcode: i === 0 ? opcode : OPCODES.continuation, payload: rng.next() < 0.9 ? Buffer.from(randomText(rng, 10)) : rng.pick(INVALID_UTF8), fin: last }));
    if (rng.next() < 0.2) out.push(encodeFrame({ opcode: OPCODES.ping, payload: Buffer.from('between') }));
  }
  return out;
}

export function generateFrames(rng: Random): FuzzInput {
  const parts: Buffer[] = [];
  const frames = 1 + rng.int(4);
  for (let i = 0; i < frames; i++) {
    if (rng.next() < 0.15) parts.push(...fragmented(rng));
    else parts.push(encodeFrame(frameSpec(rng)));
  }
  // Byte-level damage to one frame, or a frame split over two TCP writes.
  if (rng.next() < 0.3) {
    const i = rng.int(parts.length);
    parts[i] = mutateBytes(rng, parts[i], parts);
  } else if (rng.next() < 0.2) {
    const i = rng.int(parts.length);
    const cut = rng.int(parts[i].length + 1);
    parts.splice(i, 1, parts[i].subarray(0, cut), parts[i].subarray(cut));
  }
  return { meta: { path: rng.pick(['/ws/fuzz', '/ws/fuzz/deeper', '/ws']) }, parts };
}

/** Opens an authenticated socket at `path` and plays the parts on it; judges the close. */
export async function playFrames(node: FuzzNode, input: FuzzInput, query = ''): Promise<Verdict> {
  const params = new URLSearchParams({ session: node.auth.session, connection: node.connectionId() });
  const target = `${input.meta.path}?${params}${query}`;
  const answer = await sendUpgrade(node.port, Buffer.from(upgradeRequest(target, [`Cookie: ${node.auth.cookie}`])));
  if (answer.status !== 101) {
    answer.socket.destroy();
    return { answer: `upgrade ${answer.status}`, problem: `the upgrade of an authenticated socket answered ${answer.status}` };
  }
  const result = await exchange(answer, input.parts, 800);
  // Still open after the close frame: the server waits for the rest of a frame whose length lied.
  if (result.timedOut) return { answer: 'open (awaits more bytes)' };
  const verdict = judgeClose(result.closeCode, closeCodesIn(Buffer.concat(input.parts)));
  return { answer: verdict.label, problem: verdict.problem };
}

export const wsFrames: FuzzTarget = {
  name: 'ws-frames',
  summary: 'raw WebSocket frames on authenticated /ws sockets',
  counts: { test: 150, run: 3000 },
  async start() {
    const node = await startFuzzNode();
    return {
      generate: (rng) => generateFrames(rng),
      send: (input) => playFrames(node, input),
      alive: node.alive,
      settle: node.settle,
      stop: node.stop,
    };
  },
};

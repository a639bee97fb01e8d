// @ts-check
/**
 * The inspector's event stream (`GET /api/admin/inspector/events`, Server-Sent Events)
 * read with fetch(), since EventSource cannot send an Authorization header. When it
 * drops, it is opened again after `retryMs`; the server then starts with a fresh
 * snapshot. A refused token ends it: asking again would be refused again.
 */
import { AuthError, authorization } from './api.js';

/**
 * @typedef {{ event: string, data: any }} Message
 * @typedef {'connecting' | 'refused' | 'retrying'} StreamState
 * @typedef {{
 *   url: string,
 *   onMessage: (message: Message) => void,
 *   onState: (state: StreamState, error?: Error) => void,
 *   prepare?: (signal: AbortSignal) => Promise<void>,
 *   retryMs?: number,
 * }} StreamOptions
 */

export const RETRY_MS = 2000;

/**
 * Splits what arrived so far into complete messages (a blank line ends one) and the
 * rest. Comments (`: ping`, the heartbeat) and messages without data are skipped.
 * @param {string} buffer
 * @returns {{ messages: Message[], rest: string }}
 */
export function parseEvents(buffer) {
  const messages = [];
  let end;
  while ((end = buffer.indexOf('\n\n')) >= 0) {
    let event = 'message';
    let data = '';
    for (const line of buffer.slice(0, end).split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    buffer = buffer.slice(end + 2);
    if (data) messages.push({ event, data: JSON.parse(data) });
  }
  return { messages, rest: buffer };
}

/**
 * Opens the stream and keeps it open until `close()`. `prepare` runs before each
 * attempt (the page loads its charts there); its failure counts as the attempt's.
 * @param {StreamOptions} options
 * @returns {{ close(): void }}
 */
export function openStream({ url, onMessage, onState, prepare, retryMs = RETRY_MS }) {
  const controller = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  const attempt = async () => {
    onState('connecting');
    try {
      await prepare?.(controller.signal);
      await read(url, controller.signal, onMessage);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof AuthError) return onState('refused');
      onState('retrying', /** @type {Error} */ (error));
      retry = setTimeout(attempt, retryMs);
    }
  };
  attempt();
  return {
    close() {
      controller.abort();
      clearTimeout(retry);
    },
  };
}

/**
 * Reads messages until the stream ends (which is an error: the server never ends it).
 * @param {string} url @param {AbortSignal} signal @param {(message: Message) => void} onMessage
 */
async function read(url, signal, onMessage) {
  const res = await fetch(url, { headers: authorization(), signal, cache: 'no-store' });
  if (res.status === 401) throw new AuthError();
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended');
    const { messages, rest } = parseEvents(buffer + value);
    buffer = rest;
    for (const message of messages) onMessage(message);
  }
}

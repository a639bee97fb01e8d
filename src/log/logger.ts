/**
 * Structured JSON logs, one line per event: `{"time","level","event",...fields}`.
 * Field names that could hold a secret are redacted here, once, so no caller can
 * leak one by accident (session secrets, passwords, tokens, cookies).
 */
import type { LogLevel } from '../config/types.ts';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /secret|password|token|cookie|authorization|keys?$/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  setLevel(level: LogLevel): void;
  child(bound: LogFields): Logger;
}

export type LogSink = (line: string) => void;

export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = '[redacted]';
    else if (value instanceof Error) out[key] = { name: value.name, message: value.message };
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[key] = redact(value as LogFields);
    else out[key] = value;
  }
  return out;
}

/** A logger writing JSON lines to `sink` (stderr by default). */
export function createLogger(level: LogLevel = 'info', sink: LogSink = defaultSink): Logger {
  return build({ threshold: LEVELS[level] }, sink, {});
}

/** Children share their parent's level, so a reloaded `log.level` reaches every one. */
function build(state: { threshold: number }, sink: LogSink, bound: LogFields): Logger {
  const write = (lvl: LogLevel) => (event: string, fields: LogFields = {}) => {
    if (LEVELS[lvl] < state.threshold) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...redact({ ...bound, ...fields }) }));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel(next) {
      state.threshold = LEVELS[next];
    },
    child: (more) => build(state, sink, { ...bound, ...more }),
  };
}

function defaultSink(line: string): void {
  process.stderr.write(line + '\n');
}

/** A logger that drops everything; for units that take an optional logger. */
export const silentLogger: Logger = createLogger('error', () => {});

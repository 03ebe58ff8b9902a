/**
 * Structured JSON logs with `pino`, one object a line on stderr (written synchronously: nothing is lost when the
 * process exits right after). Each line has `level` (a name), `time` (ISO 8601), `msg` and the fields of the
 * call and of its logger's parents (a request or job id); an `err` field is serialised with its stack.
 */
import { pino, stdSerializers, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/config.ts';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  readonly level: LogLevel;
}

/** Where lines go: each call receives one JSON line without its newline. */
export type LogSink = (line: string) => void;

export function createLogger(level: LogLevel, base: LogFields = {}, sink?: LogSink): Logger {
  const destination =
    sink === undefined
      ? pino.destination({ fd: 2, sync: true })
      : { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) };
  const root = pino(
    {
      level,
      base: null,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: stdSerializers.err },
    },
    destination,
  );
  return wrap(Object.keys(base).length > 0 ? root.child(base) : root, level);
}

function wrap(p: PinoLogger, level: LogLevel): Logger {
  return {
    level,
    debug: (msg, fields) => (fields === undefined ? p.debug(msg) : p.debug(fields, msg)),
    info: (msg, fields) => (fields === undefined ? p.info(msg) : p.info(fields, msg)),
    warn: (msg, fields) => (fields === undefined ? p.warn(msg) : p.warn(fields, msg)),
    error: (msg, fields) => (fields === undefined ? p.error(msg) : p.error(fields, msg)),
    child: (fields) => wrap(p.child(fields), level),
  };
}

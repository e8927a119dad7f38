import { type DestinationStream, pino } from 'pino';

/** `FERRY_LOG_LEVEL`'s values, most verbose first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One level's method: a message, or fields (merged into the JSON line) and a message. */
export interface LogFn {
  (fields: object, message: string): void;
  (message: string): void;
}

/**
 * What the server logs through: the part of pino's `Logger` it uses, so that a test can
 * hand in any logger (test/support/log-capture.ts makes a real one that keeps its lines).
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose every line also carries `bindings`, e.g. a socket's `userId` and `socketId`. */
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Fields never written, whatever a call site passes: a safety net under the rule that no
 * line carries a session token, an invite secret or a message body. `*` is one level deep.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'tokenHash',
  '*.tokenHash',
  'invite',
  '*.invite',
  'inviteSecret',
  '*.inviteSecret',
  'body',
  '*.body',
  'messages[*].body',
  '*.messages[*].body',
  'auth',
  '*.auth',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export const REDACTED = '[redacted]';

/**
 * An error as a line shows it: its class, message, code and stack. Not its other fields: a
 * driver's error can carry the values of the statement that failed (pg's `detail`), and
 * those may be a message's text.
 */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: error.stack,
  };
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the JSON lines go: stdout when omitted. */
  destination?: DestinationStream;
}

/**
 * The server's logger: one JSON object a line (pino), with an ISO `time`, the numeric
 * `level`, `pid` and `hostname`, the fields of the call, and `msg`. An error goes in `err`.
 */
export function createLogger({ level = 'info', destination }: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      serializers: { err: serializeError },
    },
    // Synchronous: a line written just before `process.exit` is not lost.
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** Logs nothing: for servers made without a logger (most tests). */
export const silentLogger: Logger = createLogger({ level: 'silent' });

/** An error's message for a log line's `msg`, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

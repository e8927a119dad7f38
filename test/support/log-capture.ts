import { createLogger, type Logger, type LogLevel } from '../../src/server/logger.ts';

/** One JSON line as the server writes it (see src/server/logger.ts). */
export interface LogRecord {
  level: number;
  time: string;
  msg: string;
  [field: string]: unknown;
}

/** A real logger (the server's, redaction included) whose lines are kept, not printed. */
export interface CapturedLog {
  logger: Logger;
  /** Every line as written: what must never hold a secret is checked here. */
  readonly lines: string[];
  /** The lines, parsed. */
  readonly records: LogRecord[];
  /** Each line's `msg`, in order. */
  readonly messages: string[];
}

export function captureLog(level: LogLevel = 'trace'): CapturedLog {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const messages: string[] = [];
  const logger = createLogger({
    level,
    destination: {
      write(line: string) {
        const trimmed = line.trimEnd();
        lines.push(trimmed);
        const record = JSON.parse(trimmed) as LogRecord;
        records.push(record);
        messages.push(record.msg);
      },
    },
  });
  return { logger, lines, records, messages };
}

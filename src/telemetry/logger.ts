// The gateway's log: one line per event on stderr, JSON by default (pino), plain text on request.
// Lines written while serving a request carry its trace id, span id, session and method (from
// the request context, log-context.ts). Every configured secret value is masked before a line is
// written, whatever the code that logged it put in it: a defence behind the rule that nothing
// logs a secret in the first place.
import pino from 'pino';
import { currentRequest } from './log-context.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogFields {
  level?: Level;
  [field: string]: unknown;
}

/** How the gateway logs: a line of text, and optionally its level and fields. */
export type Log = (line: string, fields?: LogFields) => void;

export interface LoggerOptions {
  format: 'json' | 'text';
  level: Level;
  /** Values never to appear in a log line (read for each line: a reload may change them). */
  secrets: () => readonly string[];
  /** Where lines go (default stderr). */
  destination?: NodeJS.WritableStream;
}

export const MASK = '[REDACTED]';
const RANK: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export function createLogger(options: LoggerOptions): { log: Log; flush(): void } {
  const destination = options.destination ?? process.stderr;
  const mask = (text: string) => {
    let out = text;
    for (const secret of options.secrets()) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  };
  if (options.format === 'text') {
    return {
      log(line, fields) {
        if (RANK[fields?.level ?? 'info'] < RANK[options.level]) return;
        destination.write(`${mask(line)}\n`);
      },
      flush() {},
    };
  }
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    log(line, fields) {
      const level = fields?.level ?? 'info';
      if (RANK[level] < RANK[options.level]) return;
      const context = currentRequest();
      const extra: Record<string, unknown> = {};
      if (context) Object.assign(extra, context);
      if (fields) for (const [k, v] of Object.entries(fields)) if (k !== 'level') extra[k] = v;
      // Masked as one JSON text, so a secret in any field, nested or not, is caught.
      const masked = JSON.parse(mask(JSON.stringify(extra))) as Record<string, unknown>;
      logger[level](masked, mask(line));
    },
    flush: () => logger.flush(),
  };
}

// The `audit` section of gatehouse.yaml: where records are kept, what happens when they cannot
// be, how long they stay, what is redacted, and where else they are sent.
import { z } from 'zod';

const sqliteStore = z.strictObject({
  type: z.literal('sqlite'),
  /** Created if missing (relative paths: from the working directory). */
  file: z.string().min(1).default('gatehouse-audit.db'),
});

const postgresStore = z.strictObject({
  type: z.literal('postgres'),
  /** e.g. `postgres://gatehouse:${secret:PG_PASSWORD}@db:5432/gatehouse`. */
  url: z.string().min(1),
  /** Table name; created if missing. */
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('gatehouse_audit'),
});

const retry = {
  /** Attempts per batch before it goes to the dead-letter file. */
  maxAttempts: z.number().int().min(1).max(100).default(8),
  /** Records per delivery. */
  batchSize: z.number().int().min(1).max(10_000).default(200),
  /** Records waiting beyond this go to the dead-letter file. */
  queueSize: z.number().int().min(1).default(10_000),
  /** Undeliverable records, one JSON per line. */
  deadLetterFile: z.string().min(1).optional(),
};

const webhookSink = z.strictObject({
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().default(10_000),
  ...retry,
});

const syslogSink = z.strictObject({
  type: z.literal('syslog'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(514),
  protocol: z.enum(['tcp', 'udp']).default('udp'),
  /** RFC 5424 facility number (16 = local0). */
  facility: z.number().int().min(0).max(23).default(16),
  appName: z
    .string()
    .regex(/^[!-~]{1,48}$/)
    .default('gatehouse'),
  ...retry,
});

const otlpSink = z.strictObject({
  type: z.literal('otlp'),
  /** The OTLP/HTTP logs endpoint, e.g. `http://collector:4318/v1/logs`. */
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().default(10_000),
  ...retry,
});

export const auditSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    store: z.discriminatedUnion('type', [sqliteStore, postgresStore]).prefault({ type: 'sqlite' }),
    /** Names this gateway process in records; default `<hostname>-<pid>`. */
    instance: z.string().min(1).max(128).optional(),
    /** Records are written in batches at least this often (the most a `kill -9` can lose). */
    flushIntervalMs: z.number().int().min(10).max(60_000).default(200),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    /** Records waiting for the store beyond this: spooled (`spool`) or calls refused (`block`). */
    queueSize: z.number().int().min(100).default(50_000),
    /**
     * While the store cannot be written: `spool` keeps records in `spoolFile` and replays them
     * in order, exactly once, when it is back; `block` refuses calls until records can be kept.
     */
    onFailure: z.enum(['spool', 'block']).default('spool'),
    spoolFile: z.string().min(1).default('gatehouse-audit.spool'),
    retention: z
      .strictObject({
        maxAgeDays: z.number().positive().default(90),
        maxRecords: z.number().int().positive().optional(),
      })
      .prefault({}),
    redact: z
      .strictObject({
        /** Argument keys (any depth, case-insensitive globs) whose values are replaced. */
        keys: z
          .array(z.string())
          .default(['*password*', '*secret*', '*token*', 'authorization', '*api_key*', '*apikey*', 'cookie']),
        /** Regular expressions whose matches in string values are replaced (e.g. card numbers). */
        patterns: z.array(z.string().refine(isRegExp, 'not a valid regular expression')).default([]),
        /** Arguments longer than this (as JSON) are cut, and marked so. */
        maxArgumentBytes: z.number().int().min(0).default(4096),
      })
      .prefault({}),
    sinks: z.array(z.discriminatedUnion('type', [webhookSink, syslogSink, otlpSink])).default([]),
  })
  .prefault({});

function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'g');
    return true;
  } catch {
    return false;
  }
}

export type AuditConfig = z.infer<typeof auditSchema>;
export type SinkConfig = AuditConfig['sinks'][number];
export type StoreConfig = AuditConfig['store'];

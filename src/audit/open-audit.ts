// The audit trail as the gateway runs it: the store the config names, the writer in front of it
// (batching, spool or block), the sinks behind it, and the observer that turns observations
// into records. Off when `audit.enabled` is false.
import type { Observer } from '../telemetry/observation.ts';
import { NO_OBSERVER } from '../telemetry/observation.ts';
import { createAuditor } from './auditor.ts';
import { openAuditStore } from './open-store.ts';
import { createRedactor } from './redact.ts';
import type { AuditConfig } from './schema.ts';
import type { SinkStats } from './sink.ts';
import { createSinks } from './sinks/open-sinks.ts';
import type { AuditStore } from './store.ts';
import { type AuditWriterStats, createAuditWriter } from './writer.ts';

export interface Audit {
  readonly observer: Observer;
  /** For searches and verification (the writer is the only one that appends). */
  readonly store?: AuditStore;
  stats(): AuditWriterStats | undefined;
  sinks(): (SinkStats & { name: string })[];
  /** Writes everything queued (or leaves it in the spool), closes store and sinks. */
  close(): Promise<void>;
}

export const NO_AUDIT: Audit = {
  observer: NO_OBSERVER,
  stats: () => undefined,
  sinks: () => [],
  close: () => Promise.resolve(),
};

export async function openAudit(config: AuditConfig, log: (line: string) => void): Promise<Audit> {
  if (!config.enabled) return NO_AUDIT;
  const store = await openAuditStore(config.store, { log });
  const sinks = createSinks(config.sinks, log);
  const writer = createAuditWriter(config, { store, sinks, log });
  return {
    observer: createAuditor(writer, createRedactor(config.redact), config.instance),
    store,
    stats: () => writer.stats(),
    sinks: () => sinks.map((s) => ({ name: s.name, ...s.stats() })),
    close: () => writer.close(),
  };
}

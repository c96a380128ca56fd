// Where audit records are kept: the one interface the SQLite and PostgreSQL stores implement.
// The writer (writer.ts) is the only caller of `append`; search, export, verify and retention
// read through the rest.
import type { AuditRecord, Outcome, StoredRecord } from './record.ts';

export interface AuditQuery {
  /** ISO times; `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
  agent?: string;
  user?: string;
  team?: string;
  /** Exposed tool / prompt name or resource URI (exact). */
  target?: string;
  method?: string;
  outcome?: Outcome;
  traceId?: string;
  instance?: string;
  /** At most this many, oldest first (default: all). */
  limit?: number;
  /** Resume after this record id (for paging). */
  after?: string;
}

export interface AuditStore {
  /**
   * Appends records in order, each chained to the previous record of its instance, all or none
   * (one transaction), and returns the ones it kept, as kept (normalized: see chain.ts). A record
   * whose id is already kept, or repeated in the batch, is skipped and not returned (so replaying
   * a spool after a crash keeps each record exactly once). Rejects when the store cannot be
   * written; nothing is then kept.
   */
  append(records: readonly AuditRecord[]): Promise<StoredRecord[]>;
  /**
   * `append`, answered with how many records were kept rather than the records: what the writer
   * calls when no sink needs them, where a store can save making them.
   */
  appendCount?(records: readonly AuditRecord[]): Promise<number>;
  /** Matching records oldest first, streamed in pages so memory stays flat for any count. */
  query(q: AuditQuery): AsyncIterable<StoredRecord>;
  /** Every record of one instance in chain order, for verification. */
  chain(instance: string): AsyncIterable<StoredRecord>;
  /** The instances that have records. */
  instances(): Promise<string[]>;
  /** Deletes records older than `before` and, past `maxRecords`, the oldest; returns how many. */
  prune(options: { before?: string; maxRecords?: number }): Promise<number>;
  close(): Promise<void>;
}

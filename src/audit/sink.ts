// Where audit records are sent besides the store: SIEMs and log pipelines. A sink receives the
// records the store has kept, in batches, and delivers them in its own time; what it cannot
// deliver after its retries goes to its dead-letter file, never silently away.
import type { StoredRecord } from './record.ts';

export interface SinkStats {
  delivered: number;
  failed: number;
  deadLettered: number;
  /** Records waiting in the sink's own queue. */
  queued: number;
}

export interface AuditSink {
  readonly name: string;
  /** Takes a batch for delivery; never throws and never blocks the caller on the network. */
  accept(records: readonly StoredRecord[]): void;
  stats(): SinkStats;
  /** Delivers what is queued (up to a deadline), then stops. */
  close(): Promise<void>;
}

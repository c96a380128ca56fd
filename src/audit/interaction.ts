// What the request path learns about one client request while serving it, for its audit record
// (and its metrics and trace): filled in by the router as it goes, read once when the request
// is answered. A plain bag of fields: no behaviour, nothing allocated unless used.
import type { AuditRecord, Outcome } from './record.ts';

export interface Interaction {
  /** The upstream the request went to (or would have). */
  upstream?: string;
  /** The exposed tool or prompt name, or resource URI. */
  target?: string;
  /** The arguments as the client sent them (redacted when the record is made). */
  arguments?: unknown;
  policy?: AuditRecord['policy'];
  /** Time spent waiting for the upstream, in ms. */
  upstreamMs?: number;
  /** Set when the outcome is not plain from the answer (a hidden target refused by policy). */
  outcome?: Outcome;
  reason?: string;
}

/** Facts about the request known at the transport: where it came from and its trace. */
export interface RequestFacts {
  source?: string;
  traceId?: string;
  spanId?: string;
  client?: { name?: string; version?: string };
}

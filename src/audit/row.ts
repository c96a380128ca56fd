// How a record maps onto a table row, the same for every store. The full record is kept as JSON
// in `record` (its canonical JSON, the text that was hashed: chain.ts); the fields searched by,
// and the chain fields, are columns beside it.
//
// Reading a row, the columns win over the JSON: a record is rebuilt from the JSON with its
// column values put back in. Search filters by the columns, so what a search shows is what was
// matched; and an edit of a column alone changes the rebuilt record, whose hash then no longer
// matches, so verification catches it like any other edit.
import type { AuditRecord, Outcome, StoredRecord } from './record.ts';

/** Column values of a row, as the stores bind and read them (`time` as ISO text). */
export interface RecordRow {
  id: string;
  time: string;
  instance: string;
  seq: number;
  agent: string | null;
  user_name: string | null;
  target: string | null;
  method: string;
  outcome: string;
  trace_id: string | null;
  prev_hash: string;
  hash: string;
}

/** The columns, in the order stores insert them (`record` last). */
export const COLUMNS = [
  'id',
  'time',
  'instance',
  'seq',
  'agent',
  'user_name',
  'target',
  'method',
  'outcome',
  'trace_id',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof RecordRow)[];

export function toRow(r: StoredRecord): RecordRow {
  return {
    id: r.id,
    time: r.time,
    instance: r.instance,
    seq: r.seq,
    agent: r.principal.agent ?? null,
    user_name: r.principal.user ?? null,
    target: r.target ?? null,
    method: r.method,
    outcome: r.outcome,
    trace_id: r.traceId ?? null,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

export function fromRow(row: RecordRow, body: AuditRecord): StoredRecord {
  const principal = { ...body.principal };
  setOrDelete(principal, 'agent', row.agent);
  setOrDelete(principal, 'user', row.user_name);
  const out: StoredRecord = {
    ...body,
    id: row.id,
    time: row.time,
    instance: row.instance,
    principal,
    method: row.method,
    outcome: row.outcome as Outcome,
    seq: row.seq,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  setOrDelete(out, 'target', row.target);
  setOrDelete(out, 'traceId', row.trace_id);
  return out;
}

function setOrDelete<T extends object>(target: T, key: keyof T & string, value: string | null): void {
  if (value === null) delete target[key];
  else (target as Record<string, unknown>)[key] = value;
}

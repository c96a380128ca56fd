// The SQL of the PostgreSQL audit store, for one table. The table name is checked against the
// config's pattern and quoted; every value is a bound parameter.
import type { AuditRecord, StoredRecord } from './record.ts';
import { COLUMNS, fromRow, type RecordRow } from './row.ts';

export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A record read from the table, with its paging key (not enumerable: out of JSON and deepEqual). */
export type PagedRecord = StoredRecord & { readonly pk?: string };

export function statements(table: string, chunk: number) {
  if (!TABLE_NAME.test(table)) throw new TypeError(`bad audit table name ${table}`);
  const t = `"${table}"`;
  const index = (name: string, columns: string) =>
    `CREATE INDEX IF NOT EXISTS "${table}_${name}" ON ${t} (${columns});`;
  const types = [
    ...COLUMNS.map((c) => (c === 'seq' ? 'int8' : c === 'time' ? 'timestamptz' : 'text')),
    'jsonb',
  ];
  const select = `SELECT pk, ${COLUMNS.join(', ')}, record FROM ${t}`;
  return {
    ddlLock: `SELECT pg_advisory_xact_lock(hashtext('gatehouse-audit-ddl:' || $1))`,
    // Each search index ends in (time, pk), the paging order, so a filtered page is an index range.
    schema: `CREATE TABLE IF NOT EXISTS ${t} (
        pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        time timestamptz NOT NULL,
        instance text NOT NULL,
        seq bigint NOT NULL,
        agent text, user_name text, target text,
        method text NOT NULL, outcome text NOT NULL, trace_id text,
        prev_hash text NOT NULL, hash text NOT NULL,
        record jsonb NOT NULL,
        UNIQUE (instance, seq));
      ${index('time', 'time, pk')} ${index('agent', 'agent, time, pk')} ${index('user', 'user_name, time, pk')}
      ${index('target', 'target, time, pk')} ${index('outcome', 'outcome, time, pk')} ${index('trace', 'trace_id')}`,
    /** One lock per instance, taken in the order of the (sorted) array. */
    lockInstances: 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext(i)) FROM unnest($2::text[]) AS i',
    keptIds: `SELECT id FROM ${t} WHERE id = ANY($1::text[])`,
    heads: `SELECT i AS instance, h.seq, h.hash FROM unnest($1::text[]) AS i CROSS JOIN LATERAL
        (SELECT seq, hash FROM ${t} WHERE instance = i ORDER BY seq DESC LIMIT 1) h`,
    /** One statement for the whole batch: one array parameter per column. */
    insert: `INSERT INTO ${t} (${COLUMNS.join(', ')}, record)
        SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`,
    page: (where: string[], n: number) =>
      `${select} WHERE ${[...where, `(time, pk) > ($${n + 1}::timestamptz, $${n + 2}::int8)`].join(' AND ')}
        ORDER BY time, pk LIMIT $${n + 3}`,
    cursorOf: `SELECT time, pk FROM ${t} WHERE id = $1`,
    chainPage: `${select} WHERE instance = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    // A loose index scan: one index probe per instance instead of reading every row.
    instances: `WITH RECURSIVE i(name) AS (
        SELECT min(instance) FROM ${t}
        UNION ALL SELECT (SELECT min(instance) FROM ${t} WHERE instance > name) FROM i WHERE name IS NOT NULL)
      SELECT name FROM i WHERE name IS NOT NULL`,
    nthNewest: `SELECT pk FROM ${t} ORDER BY pk DESC OFFSET $1 LIMIT 1`,
    headSeq: `SELECT seq FROM ${t} WHERE instance = $1 ORDER BY seq DESC LIMIT 1`,
    firstSince: `SELECT min(seq) AS seq FROM ${t} WHERE instance = $1 AND time >= $2`,
    pruneChunk: `DELETE FROM ${t} WHERE pk IN (SELECT pk FROM ${t}
        WHERE instance = $1 AND seq < $2 AND (seq < $3 OR pk < $4) ORDER BY seq LIMIT ${chunk})`,
  };
}

export function toStored(row: Record<string, unknown>): PagedRecord {
  const r = row as unknown as RecordRow & { time: Date; seq: string; pk: string; record: AuditRecord };
  const stored = fromRow({ ...r, time: r.time.toISOString(), seq: Number(r.seq) }, r.record);
  return Object.defineProperty(stored, 'pk', { value: r.pk, enumerable: false });
}

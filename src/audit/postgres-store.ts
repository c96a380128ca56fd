// The shared audit store: one PostgreSQL table (created if missing), written by every gateway
// instance. Same columns as the SQLite store, in PostgreSQL types (timestamptz, jsonb); the SQL
// is in postgres-sql.ts.
//
// - Two writers of one instance cannot fork its chain: an append takes a transaction-scoped
//   advisory lock per instance (in sorted order, so two appends never deadlock) before it reads
//   the heads and the ids already kept.
// - Replay is exactly-once: ids already kept are left out before the chain is extended, so the
//   numbering has no holes (an id conflict that still happens fails the batch, never a gap).
// - Nothing hangs: connecting, waiting for a pooled connection, every statement and every
//   transaction have time limits, so `append` rejects promptly and the writer spools instead.
// - Errors name the URL with its password masked (masked-error.ts).
// - The server is reached on first use, not at open, so a gateway starts while it is down; the
//   table is created then (and again after a failure).
import pg from 'pg';
import { type ChainHead, chainRecords, freshRecords } from './chain.ts';
import { isoTime, whereClauses } from './filters.ts';
import { failingWith, maskedErrors } from './masked-error.ts';
import { type PagedRecord, statements, toStored } from './postgres-sql.ts';
import type { AuditRecord, StoredRecord } from './record.ts';
import { COLUMNS, toRow } from './row.ts';
import type { AuditQuery, AuditStore } from './store.ts';

export interface PostgresStoreOptions {
  url: string;
  table: string;
  /** Connecting, or waiting for a pooled connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Each statement, enforced by the server and by the client (default 10 s). */
  statementTimeoutMs?: number;
}

const PAGE = 1_000;
const PRUNE_CHUNK = 5_000;

export function openPostgresAuditStore(options: PostgresStoreOptions): AuditStore {
  const sql = statements(options.table, PRUNE_CHUNK);
  const statementMs = options.statementTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: statementMs,
    query_timeout: statementMs + 2_000,
    idle_in_transaction_session_timeout: statementMs * 2,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'gatehouse-audit',
  });
  // A connection that breaks reports here as well as to the query using it (which rejects);
  // without a listener the process would exit. The pool replaces broken connections itself.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const fail = maskedErrors(options.url, `audit store (table ${options.table})`);

  async function transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      // The connection's state is unknown (a timeout may have fired mid-statement): drop it.
      client.release(true);
      throw err;
    }
  }

  let ready: Promise<void> | undefined;
  const ensureTable = () =>
    (ready ??= transaction(async (c) => {
      await c.query(sql.ddlLock, [options.table]);
      await c.query(sql.schema);
    }).catch((err: unknown) => {
      ready = undefined;
      throw err;
    }));

  const query = async (text: string, values: unknown[] = []) => {
    await ensureTable();
    return (await pool.query(text, values)).rows;
  };

  async function* paged(
    text: string,
    values: unknown[],
    after: (last?: PagedRecord) => unknown[],
    limit: number,
  ) {
    let cursor = after();
    while (limit > 0) {
      const page = (await query(text, [...values, ...cursor, Math.min(PAGE, limit)])).map(toStored);
      yield* page;
      if (page.length < PAGE) return;
      limit -= page.length;
      cursor = after(page[page.length - 1]);
    }
  }

  async function appendLocked(c: pg.PoolClient, records: readonly AuditRecord[]): Promise<StoredRecord[]> {
    const instances = [...new Set(records.map((r) => r.instance))].sort();
    await c.query(sql.lockInstances, [options.table, instances]);
    const kept = await c.query(sql.keptIds, [records.map((r) => r.id)]);
    const fresh = freshRecords(records, new Set(kept.rows.map((r) => r.id as string)));
    if (fresh.length === 0) return [];
    const heads = new Map<string, ChainHead>();
    for (const h of (await c.query(sql.heads, [instances])).rows) {
      heads.set(h.instance, { seq: Number(h.seq), hash: h.hash });
    }
    const json: string[] = [];
    const stored = chainRecords(fresh, heads, json);
    const rows = stored.map(toRow);
    await c.query(sql.insert, [...COLUMNS.map((column) => rows.map((row) => row[column])), json]);
    return stored;
  }

  async function prune(before: string | undefined, maxRecords: number | undefined): Promise<number> {
    // As in the SQLite store: each chain loses a prefix and keeps its newest record.
    const since = before === undefined ? undefined : isoTime(before);
    const keepFromPk =
      maxRecords === undefined ? 0 : ((await query(sql.nthNewest, [maxRecords - 1]))[0]?.pk ?? 0);
    let deleted = 0;
    for (const { name } of await query(sql.instances)) {
      const head = Number((await query(sql.headSeq, [name]))[0]?.seq ?? 0);
      const first = since === undefined ? 0 : ((await query(sql.firstSince, [name, since]))[0]?.seq ?? head);
      for (;;) {
        const { rowCount } = await pool.query(sql.pruneChunk, [name, head, Number(first), keepFromPk]);
        deleted += rowCount ?? 0;
        if ((rowCount ?? 0) < PRUNE_CHUNK) break;
      }
    }
    return deleted;
  }

  return {
    append: async (records) => {
      if (records.length === 0) return [];
      try {
        await ensureTable();
        return await transaction((c) => appendLocked(c, records));
      } catch (err) {
        return fail(err);
      }
    },

    query(q: AuditQuery) {
      const values: string[] = [];
      const where = whereClauses(q, {
        param: (value) => `$${values.push(value)}`,
        hasTeam: (p) => `record->'principal'->'teams' ? ${p}`,
      });
      const text = sql.page(where, values.length);
      return failingWith(fail, async function* () {
        let start: unknown[] = ['-infinity', 0];
        if (q.after !== undefined) {
          const [found] = await query(sql.cursorOf, [q.after]);
          if (!found) return;
          start = [found.time, found.pk];
        }
        const after = (last?: PagedRecord) => (last ? [last.time, last.pk] : start);
        yield* paged(text, values, after, q.limit ?? Number.POSITIVE_INFINITY);
      });
    },

    chain(instance: string) {
      const after = (last?: PagedRecord) => [last?.seq ?? 0];
      return failingWith(fail, () => paged(sql.chainPage, [instance], after, Number.POSITIVE_INFINITY));
    },

    instances: () => query(sql.instances).then((rows) => rows.map((r) => r.name as string), fail),

    prune: ({ before, maxRecords }) => prune(before, maxRecords).catch(fail),

    close: () => pool.end(),
  };
}

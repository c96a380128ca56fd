// The embedded audit store: one SQLite file (node:sqlite), WAL mode, one table.
//
// node:sqlite is synchronous: the gateway runs this store in a worker thread
// (sqlite-worker-store.ts), the CLI in its own. Either way every call does a bounded amount of
// work: an append is one batch in one transaction (6-10 ms for 500 records with normalizing and
// hashing), reads come in pages of PAGE rows with a turn of the event loop between pages, and
// pruning deletes in chunks. WAL lets the CLI read while the gateway writes; `synchronous =
// NORMAL` keeps every committed batch through a process crash (kill -9), though not necessarily
// through power loss.
import { DatabaseSync } from 'node:sqlite';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type ChainHead, EMPTY_HEAD } from './chain.ts';
import { isoTime, whereClauses } from './filters.ts';
import { flatten, linkParts, PREPARED } from './prepared.ts';
import type { AuditRecord, StoredRecord } from './record.ts';
import { COLUMNS, fromRow, type RecordRow } from './row.ts';
import type { AuditQuery, AuditStore } from './store.ts';

const PAGE = 500;
const PRUNE_CHUNK = 5_000;

// `pk` orders rows as they were inserted (and so, within an instance, as chained); declaring it
// keeps it stable across VACUUM. Each search index ends in `time` (and implicitly `pk`), so a
// filtered page is read in order from the index.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time TEXT NOT NULL,
  instance TEXT NOT NULL,
  seq INTEGER NOT NULL,
  agent TEXT,
  user_name TEXT,
  target TEXT,
  method TEXT NOT NULL,
  outcome TEXT NOT NULL,
  trace_id TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  record TEXT NOT NULL,
  UNIQUE (instance, seq)
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE INDEX IF NOT EXISTS audit_agent ON audit (agent, time);
CREATE INDEX IF NOT EXISTS audit_user ON audit (user_name, time);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, time);
CREATE INDEX IF NOT EXISTS audit_outcome ON audit (outcome, time);
CREATE INDEX IF NOT EXISTS audit_trace ON audit (trace_id);
`;

const SELECT = `SELECT pk, ${COLUMNS.join(', ')}, record FROM audit`;

type Row = RecordRow & { pk: number; record: string };

const toStored = (row: Row): StoredRecord => fromRow(row, JSON.parse(row.record) as AuditRecord);

export interface AppendedFlat {
  kept: number;
  /** JSON text of the StoredRecords kept, when asked for. */
  json: string | undefined;
}

export interface SqliteAuditStore extends AuditStore {
  /** Appends records already prepared and flattened (`flatten`), as the worker receives them. */
  appendFlat(flat: readonly (string | null)[], returning: boolean): AppendedFlat;
}

/** SQLite's extended result code for a UNIQUE constraint failure. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

export function openSqliteAuditStore(file: string): SqliteAuditStore {
  const db = new DatabaseSync(file, { timeout: 5_000 });
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  db.exec(SCHEMA);
  const insert = db.prepare(
    `INSERT INTO audit (${COLUMNS.join(', ')}, record) VALUES (${COLUMNS.map(() => '?').join(', ')}, ?)`,
  );
  const keptIds = db.prepare('SELECT id FROM audit WHERE id IN (SELECT value FROM json_each(?))');
  const headOf = db.prepare('SELECT seq, hash FROM audit WHERE instance = ? ORDER BY seq DESC LIMIT 1');
  const chainPage = db.prepare(`${SELECT} WHERE instance = ? AND seq > ? ORDER BY seq LIMIT ${PAGE}`);
  const cursorOf = db.prepare('SELECT time, pk FROM audit WHERE id = ?');
  const firstSince = db.prepare('SELECT min(seq) AS seq FROM audit WHERE instance = ? AND time >= ?');
  const nthNewest = db.prepare('SELECT pk FROM audit ORDER BY pk DESC LIMIT 1 OFFSET ?');
  const pruneChunk = db.prepare(
    `DELETE FROM audit WHERE pk IN (SELECT pk FROM audit WHERE instance = ? AND seq < ? AND (seq < ? OR pk < ?)
       ORDER BY seq LIMIT ${PRUNE_CHUNK})`,
  );
  const instanceList = db.prepare(`WITH RECURSIVE i(name) AS (
      SELECT min(instance) FROM audit
      UNION ALL SELECT (SELECT min(instance) FROM audit WHERE instance > name) FROM i WHERE name IS NOT NULL)
    SELECT name FROM i WHERE name IS NOT NULL`);

  // Read inside the write transaction, never cached: another process writing the same file
  // (a CLI, a second gateway) cannot leave this one with a stale head and fork the chain.
  const readHead = (instance: string): ChainHead =>
    (headOf.get(instance) as ChainHead | undefined) ?? EMPTY_HEAD;
  const instances = () => instanceList.all().map((row) => row['name'] as string);

  /**
   * Appends prepared records (prepared.ts), flattened: PREPARED strings each. Returns how many
   * were kept and, when `returning`, the JSON text of their StoredRecords (the canonical JSON
   * that was hashed, `hash` added last). A batch straight from the writer has never been kept,
   * so its ids are not looked up first; should one be kept already (a replay of a batch whose
   * answer was lost), the UNIQUE id makes the insert fail, and the batch is done again with
   * the lookup, skipping what is kept and what repeats.
   */
  const appendFlat = (flat: readonly (string | null)[], returning: boolean, dedup = false): AppendedFlat => {
    const out: string[] = [];
    if (flat.length === 0) return { kept: 0, json: returning ? '[]' : undefined };
    db.exec('BEGIN IMMEDIATE');
    try {
      const kept = dedup ? keptOf(flat) : undefined;
      const heads = new Map<string, ChainHead>();
      let count = 0;
      for (let at = 0; at < flat.length; at += PREPARED) {
        const id = flat[at] as string;
        if (kept) {
          if (kept.has(id)) continue;
          kept.add(id);
        }
        const instance = flat[at + 2] as string;
        const head = heads.get(instance) ?? readHead(instance);
        const { text, hash } = linkParts(
          flat[at + 9] as string,
          flat[at + 10] as string,
          flat[at + 11] as string,
          head,
        );
        const seq = head.seq + 1;
        const column = (i: number) => flat[at + i] as string | null;
        // biome-ignore format: one row, in COLUMNS order
        insert.run(id, column(1), instance, seq, column(3), column(4), column(5), column(6), column(7), column(8), head.hash, hash, text);
        heads.set(instance, { seq, hash });
        if (returning) out.push(`${text.slice(0, -1)},"hash":"${hash}"}`);
        count++;
      }
      db.exec('COMMIT');
      return { kept: count, json: returning ? `[${out.join(',')}]` : undefined };
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      if (!dedup && (err as { errcode?: number }).errcode === SQLITE_CONSTRAINT_UNIQUE) {
        return appendFlat(flat, returning, true);
      }
      throw err;
    }
  };
  const keptOf = (flat: readonly (string | null)[]): Set<string> => {
    const ids: (string | null)[] = [];
    for (let at = 0; at < flat.length; at += PREPARED) ids.push(flat[at]!);
    return new Set(keptIds.all(JSON.stringify(ids)).map((r) => r['id'] as string));
  };

  return {
    async append(records: readonly AuditRecord[]): Promise<StoredRecord[]> {
      return JSON.parse(appendFlat(flatten(records), true).json!) as StoredRecord[];
    },

    async appendCount(records: readonly AuditRecord[]): Promise<number> {
      return appendFlat(flatten(records), false).kept;
    },

    appendFlat,

    async *query(q: AuditQuery): AsyncGenerator<StoredRecord> {
      const params: string[] = [];
      const where = whereClauses(q, {
        param: (value) => {
          params.push(value);
          return '?';
        },
        hasTeam: (p) => `EXISTS (SELECT 1 FROM json_each(record, '$.principal.teams') WHERE value = ${p})`,
      });
      let cursor: { time: string; pk: number } = { time: '', pk: 0 };
      if (q.after !== undefined) {
        const found = cursorOf.get(q.after) as typeof cursor | undefined;
        if (!found) return;
        cursor = found;
      }
      where.push('(time, pk) > (?, ?)');
      const page = db.prepare(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY time, pk LIMIT ?`);
      let remaining = q.limit ?? Number.POSITIVE_INFINITY;
      while (remaining > 0) {
        const rows = page.all(
          ...params,
          cursor.time,
          cursor.pk,
          Math.min(PAGE, remaining),
        ) as unknown as Row[];
        for (const row of rows) yield toStored(row);
        if (rows.length < PAGE) return;
        remaining -= rows.length;
        const last = rows[rows.length - 1]!;
        cursor = { time: last.time, pk: last.pk };
        await nextTurn();
      }
    },

    async *chain(instance: string): AsyncGenerator<StoredRecord> {
      let after = 0;
      for (;;) {
        const rows = chainPage.all(instance, after) as unknown as Row[];
        for (const row of rows) yield toStored(row);
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.seq;
        await nextTurn();
      }
    },

    async instances() {
      return instances();
    },

    async prune({ before, maxRecords }): Promise<number> {
      // Each chain loses a prefix and keeps its newest record, so what is left verifies from its
      // oldest record and the next append continues the numbering.
      const since = before === undefined ? undefined : isoTime(before);
      const keepFromPk =
        maxRecords === undefined ? 0 : ((nthNewest.get(maxRecords - 1)?.['pk'] as number | undefined) ?? 0);
      let deleted = 0;
      for (const instance of instances()) {
        const head = readHead(instance).seq;
        const firstKept =
          since === undefined ? 0 : ((firstSince.get(instance, since)?.['seq'] as number | null) ?? head);
        for (;;) {
          const { changes } = pruneChunk.run(instance, head, firstKept, keepFromPk);
          deleted += Number(changes);
          if (Number(changes) < PRUNE_CHUNK) break;
          await nextTurn();
        }
      }
      return deleted;
    },

    async close() {
      db.close();
    },
  };
}

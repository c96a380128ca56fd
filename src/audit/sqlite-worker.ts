// The worker thread behind sqlite-worker-store.ts: owns the SQLite store (sqlite-store.ts, run
// as is) and answers the gateway's messages, so normalizing, hashing and the inserts of an
// append, and the reads of a search, run here and not on the gateway's event loop.
//
// An append crosses as the batch's records prepared for chaining (prepared.ts: canonical JSON
// cut where the chain fields go, and the column values), a flat array of strings, so this
// thread only joins, hashes and inserts; it answers with a count, or, when the writer has sinks
// to feed, with the canonical JSON it hashed (docs/design/audit-sqlite-worker.md). A search is a cursor read one page per `next` message,
// so a reader that stops early costs nothing more than a `drop`.
import { parentPort, workerData } from 'node:worker_threads';
import type { StoredRecord } from './record.ts';
import { openSqliteAuditStore } from './sqlite-store.ts';
import type { AuditQuery } from './store.ts';

export type WorkerRequest =
  /** `records`: a flattened batch (sqlite-store.ts `flatten`); answered with a count, or JSON text when `returning`. */
  | { op: 'append'; id: number; records: (string | null)[]; returning: boolean }
  | { op: 'open'; id: number; cursor: number; query: AuditQuery }
  | { op: 'open'; id: number; cursor: number; chain: string }
  | { op: 'next'; id: number; cursor: number }
  | { op: 'instances'; id: number }
  | { op: 'prune'; id: number; options: { before?: string; maxRecords?: number } }
  | { op: 'cursors'; id: number }
  | { op: 'close'; id: number }
  /** No answer: the reader stopped early. */
  | { op: 'drop'; cursor: number };

export interface WorkerError {
  name: string;
  message: string;
  code?: string;
}

/** `id` 0 is the worker saying its store is open. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WorkerError };

/** One page of a cursor: JSON text of up to `page` StoredRecords; `done` when the cursor is spent. */
export interface Page {
  records: string;
  done: boolean;
}

/** What sqlite-worker-store.ts starts the worker with. */
export interface WorkerData {
  file: string;
  /** Records per page of a search. */
  page: number;
}

const port = parentPort;
if (!port) throw new Error('sqlite-worker.ts runs as a worker thread (sqlite-worker-store.ts starts it)');
const { file, page: PAGE } = workerData as WorkerData;
// Opening throws (a directory that is not there, a file that is not a database): the worker
// then fails with that error, which the store reports to whoever asked.
const store = openSqliteAuditStore(file);
const cursors = new Map<number, AsyncIterator<StoredRecord>>();
let pagesSent = 0;

port.on('message', (request: WorkerRequest) => void handle(request));
port.postMessage({ id: 0, ok: true, value: null } satisfies WorkerReply);

async function handle(request: WorkerRequest): Promise<void> {
  if (request.op === 'drop') {
    const cursor = cursors.get(request.cursor);
    cursors.delete(request.cursor);
    await cursor?.return?.();
    return;
  }
  let reply: WorkerReply;
  try {
    reply = { id: request.id, ok: true, value: await serve(request) };
  } catch (error) {
    reply = { id: request.id, ok: false, error: plainError(error) };
  }
  port!.postMessage(reply);
}

async function serve(request: Exclude<WorkerRequest, { op: 'drop' }>): Promise<unknown> {
  switch (request.op) {
    case 'append': {
      const { kept, json } = store.appendFlat(request.records, request.returning);
      return json ?? kept;
    }
    case 'open': {
      const records = 'chain' in request ? store.chain(request.chain) : store.query(request.query);
      cursors.set(request.cursor, records[Symbol.asyncIterator]());
      return page(request.cursor);
    }
    case 'next':
      return page(request.cursor);
    case 'instances':
      return store.instances();
    case 'prune':
      return store.prune(request.options);
    case 'cursors':
      return { open: cursors.size, pagesSent };
    case 'close':
      for (const cursor of cursors.values()) await cursor.return?.();
      cursors.clear();
      await store.close();
      return null;
  }
}

async function page(id: number): Promise<Page> {
  const cursor = cursors.get(id);
  if (!cursor)
    throw new Error(`audit store: no cursor ${id} (dropped, or read from a worker that has since stopped)`);
  const records: StoredRecord[] = [];
  pagesSent++;
  try {
    while (records.length < PAGE) {
      const next = await cursor.next();
      if (next.done) {
        cursors.delete(id);
        return { records: JSON.stringify(records), done: true };
      }
      records.push(next.value);
    }
  } catch (error) {
    cursors.delete(id);
    throw error;
  }
  return { records: JSON.stringify(records), done: false };
}

function plainError(error: unknown): WorkerError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string'
    ? { name: error.name, message: error.message, code }
    : { name: error.name, message: error.message };
}

// The SQLite audit store off the gateway's event loop: the same store (sqlite-store.ts), run in
// a worker thread (sqlite-worker.ts) that owns the database, behind the same AuditStore
// interface. node:sqlite is synchronous; in the gateway's thread an append of 500 records held
// the event loop for 6-10 ms (20-45 ms at the tail), and every request in flight waited. Here
// the gateway's thread only prepares the records (prepared.ts) and, for sinks, parses what was
// kept (docs/performance.md, Audit; docs/design/audit-sqlite-worker.md).
//
// - Calls are messages with an id; each answer settles its call. Appends are handled by the
//   worker in the order they were sent.
// - A search is a cursor in the worker, read a page (SEARCH_PAGE records) per message. The next
//   page is asked for when one arrives, so at most one request is outstanding and at most two
//   pages are in memory; a reader that stops early (break, throw) drops the cursor, as does a
//   reader that is garbage-collected without finishing.
// - If the worker dies (a crash, `terminate`), every call waiting on it rejects (the writer then
//   spools, and its replay keeps each record once: a batch the worker committed just before
//   dying is skipped by id), the death is logged, and the next call starts a new worker.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { flatten } from './prepared.ts';
import type { AuditRecord, StoredRecord } from './record.ts';
import type { Page, WorkerData, WorkerError, WorkerReply, WorkerRequest } from './sqlite-worker.ts';
import type { AuditQuery, AuditStore } from './store.ts';

export interface WorkerAuditStore extends AuditStore {
  /** For tests: cursors the worker holds (searches being read), and pages it has sent in all. */
  cursors(): Promise<{ open: number; pagesSent: number }>;
  /** The worker now running: started at open, and again by the first call after one died. */
  readonly worker: Worker | undefined;
}

export interface WorkerStoreOptions {
  /** Where a worker's death is reported (default: stderr). */
  log?: (line: string) => void;
}

const WORKER = new URL('./sqlite-worker.ts', import.meta.url);

/**
 * Records per message of a search. The gateway's thread parses and hands on a page in one turn
 * of its event loop: 200 keeps that turn short (about 0.7 ms) at no cost in throughput that the
 * bench shows; 500 made the loop's p99 delay during an export about 1 ms longer.
 */
export const SEARCH_PAGE = 200;

/**
 * The worker allocates fast and keeps little (a batch, a page): left to V8, its young generation
 * grew to about 50 MB and an export of a million records took the process 150 MB above idle.
 * 16 MB halves that (75 MB) for about 2% more CPU per appended record. The old generation is not
 * capped: a large batch would then kill the worker on every replay of it.
 */
const YOUNG_GENERATION_MB = 16;

type Call = Exclude<WorkerRequest, { op: 'drop' }>;
// Distributes over the union, so each request keeps its own fields.
type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Running {
  worker: Worker;
  /** Settled by the worker's first message: its store is open. */
  ready: Promise<void>;
  pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
  exited: boolean;
}

/** Starts the worker and resolves once it has opened `file` (rejects with the reason it could not). */
export async function openSqliteWorkerStore(
  file: string,
  options: WorkerStoreOptions = {},
): Promise<WorkerAuditStore> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let current: Running | undefined;
  let closed = false;
  let nextId = 1;
  let nextCursor = 1;
  // Dropped when a reader is collected without finishing (break and throw drop it at once).
  const abandoned = new FinalizationRegistry<{ run?: Running; cursor: number }>(({ run, cursor }) => {
    if (run) post(run, { op: 'drop', cursor });
  });

  function start(): Running {
    const worker = new Worker(WORKER, {
      workerData: { file, page: SEARCH_PAGE } satisfies WorkerData,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const run: Running = { worker, ready: Promise.resolve(), pending: new Map(), exited: false };
    let started = false;
    let failure: Error | undefined;
    run.ready = new Promise<void>((resolve, reject) => {
      run.pending.set(0, {
        resolve: () => {
          started = true;
          resolve();
        },
        reject,
      });
    });
    // Handled by whoever awaits it; this keeps a failed start from being an unhandled rejection.
    run.ready.catch(() => {});
    worker.on('message', (reply: WorkerReply) => {
      const call = run.pending.get(reply.id);
      if (!call) return;
      run.pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(errorOf(reply.error));
      holdProcess(run);
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => {
      run.exited = true;
      if (current === run) current = undefined;
      const why = failure ?? new Error(`the audit store's worker stopped (exit code ${code})`);
      const waiting = run.pending.size;
      for (const call of run.pending.values()) call.reject(why);
      run.pending.clear();
      if (closed && !failure) return;
      if (!started) log(`audit: the SQLite store's worker could not open ${file}: ${why.message}`);
      else
        log(
          `audit: the SQLite store's worker stopped (${failure ? failure.message : `exit code ${code}`}); ` +
            `${waiting} call(s) failed, a new worker starts on the next call`,
        );
    });
    holdProcess(run);
    return run;
  }

  /** The worker now running, or a new one when the last has died. */
  function running(): Running {
    if (!current) current = start();
    return current;
  }

  /** The worker keeps the process alive only while something waits on it. */
  function holdProcess(run: Running) {
    if (run.exited) return;
    if (run.pending.size > 0) run.worker.ref();
    else run.worker.unref();
  }

  function post(run: Running, request: WorkerRequest) {
    if (!run.exited) run.worker.postMessage(request);
  }

  /** Sends `request` to `run` (the worker now running, or started for it) and waits for its answer. */
  async function call<T>(request: Unsent<Call>, on?: Running): Promise<T> {
    if (closed) throw new Error('audit store: closed');
    const run = on ?? running();
    await run.ready;
    if (run.exited) throw new Error("the audit store's worker stopped");
    const id = nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      run.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    holdProcess(run);
    run.worker.postMessage({ ...request, id });
    return answer;
  }

  /** A cursor's records, a page at a time, the next page asked for while this one is read. */
  function cursorRecords(source: { query: AuditQuery } | { chain: string }): AsyncIterable<StoredRecord> {
    // What the registry needs to drop the cursor; it must not reference the reader itself.
    const held: { run?: Running; cursor: number } = { cursor: nextCursor++ };
    const { cursor } = held;
    const token = {};
    async function* pages(): AsyncGenerator<StoredRecord> {
      let done = false;
      try {
        held.run = running();
        let page = await call<Page>({ op: 'open', cursor, ...source }, held.run);
        for (;;) {
          done = page.done;
          const next = done ? undefined : call<Page>({ op: 'next', cursor }, held.run);
          // Settled even if the reader stops before getting to it.
          next?.catch(() => {});
          yield* JSON.parse(page.records) as StoredRecord[];
          if (!next) return;
          page = await next;
          // A page that arrived while this one was read would be taken in the same turn: let
          // the event loop run between pages, as the in-thread store does.
          await nextTurn();
        }
      } finally {
        abandoned.unregister(token);
        if (!done && held.run) post(held.run, { op: 'drop', cursor });
      }
    }
    const records = pages();
    abandoned.register(records, held, token);
    return records;
  }

  const first = start();
  current = first;
  try {
    await first.ready;
  } finally {
    holdProcess(first);
  }

  return {
    get worker() {
      return current?.worker;
    },

    async append(records: readonly AuditRecord[]): Promise<StoredRecord[]> {
      if (records.length === 0) return [];
      const text = await call<string>({ op: 'append', records: flatten(records), returning: true });
      return JSON.parse(text) as StoredRecord[];
    },

    async appendCount(records: readonly AuditRecord[]): Promise<number> {
      if (records.length === 0) return 0;
      return call<number>({ op: 'append', records: flatten(records), returning: false });
    },

    query(q: AuditQuery): AsyncIterable<StoredRecord> {
      return cursorRecords({ query: q });
    },

    chain(instance: string): AsyncIterable<StoredRecord> {
      return cursorRecords({ chain: instance });
    },

    instances: () => call<string[]>({ op: 'instances' }),

    prune: (options) => call<number>({ op: 'prune', options }),

    cursors: () => call<{ open: number; pagesSent: number }>({ op: 'cursors' }),

    async close() {
      if (closed) return;
      const run = current;
      if (!run) {
        closed = true;
        return;
      }
      // After everything already sent: the worker answers in order, so appends in flight land.
      const done = call<null>({ op: 'close' }, run);
      closed = true;
      try {
        await done;
      } finally {
        await run.worker.terminate();
      }
    },
  };
}

function errorOf(plain: WorkerError): Error {
  const error = new Error(plain.message);
  error.name = plain.name;
  if (plain.code !== undefined) (error as Error & { code?: string }).code = plain.code;
  return error;
}

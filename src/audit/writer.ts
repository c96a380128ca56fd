// The audit writer: takes records off the request path and gets each into the store exactly once,
// in order, whatever the store does meanwhile.
//
// Where a record is, at any moment, in the order records were written:
//
//   [ spool: sealed segments, then the active one ]  [ in flight ]  [ queue ]
//
// Normal flushing (store up, spool empty) takes batches from the queue, one append in flight at
// a time, every `flushIntervalMs` or as soon as `batchSize` records wait. Once anything is in the
// spool (the store failed, or the queue overflowed), the spool is drained first: the queue goes
// to the end of the spool at every tick (so a `kill -9` loses at most one interval), and the
// spool is replayed into the store in batches before the queue is flushed directly again. A batch
// in flight that has to be spilled goes to the spool with the queue; if its append then succeeds
// after all, its replay is skipped by the store (ids already kept), so nothing is kept twice.
//
// `onFailure: block` uses the same machinery for records already accepted, and refuses new ones
// (`write` returns false) while the store is down or the queue is full.
import type { AuditRecord, StoredRecord } from './record.ts';
import type { AuditConfig } from './schema.ts';
import type { AuditSink } from './sink.ts';
import { openSpool, type SpoolBatch } from './spool.ts';
import type { AuditStore } from './store.ts';

export interface AuditWriterStats {
  /** Records in memory, waiting for the store or the spool. */
  queued: number;
  /** Records in the spool file, waiting for the store. */
  spooled: number;
  /** Records the store has kept since start. */
  written: number;
  /** Records lost: the spool could not be written and memory was full. */
  dropped: number;
  storeUp: boolean;
  /** The store's most recent error (kept after it recovers, for diagnosis). */
  lastError?: string;
}

export interface AuditWriter {
  /** Queues a record off the request path. Returns false only in `block` mode when records cannot be kept now (the caller then refuses the call). Never throws. */
  write(record: AuditRecord): boolean;
  /** `block` mode and the store is down (or the queue is full): new calls must be refused. */
  readonly blocked: boolean;
  stats(): AuditWriterStats;
  /** Stops taking records, writes everything queued and spooled (up to a deadline), closes the store and sinks. */
  close(deadlineMs?: number): Promise<void>;
}

export interface AuditWriterDeps {
  store: AuditStore;
  sinks?: AuditSink[];
  log(line: string): void;
  now?: () => number;
}

/** Spool writes waiting at once when the queue overflows: bounds memory at (1 + this) × queueSize. */
const MAX_SPILLS = 4;
const PROBE_FIRST_MS = 100;
const PROBE_MAX_MS = 5_000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export function createAuditWriter(config: AuditConfig, deps: AuditWriterDeps): AuditWriter {
  const { store, log } = deps;
  const sinks = deps.sinks ?? [];
  const now = deps.now ?? Date.now;
  const { batchSize, queueSize, flushIntervalMs } = config;
  if (!(batchSize >= 1 && queueSize >= 1 && flushIntervalMs >= 1)) {
    throw new Error('audit writer: batchSize, queueSize and flushIntervalMs must be positive');
  }
  const block = config.onFailure === 'block';
  const spool = openSpool(config.spoolFile, log);

  let queue: AuditRecord[] = [];
  /** A batch from the queue whose append has not settled; `spooled` once a spill copied it. */
  let inflight: { records: AuditRecord[]; spooled: boolean } | undefined;
  /** A spool batch read but not yet in the store (kept across store failures, retried first). */
  let replaying: SpoolBatch | undefined;
  let storeUp = true;
  let lastError: string | undefined;
  let written = 0;
  let dropped = 0;
  let flushDue = false;
  let spills = 0;
  let spoolFailing = false;
  let spoolClosed = false;
  let closing = false;
  let closed = false;
  let running: Promise<void> | undefined;
  let probing = false;
  let probeAttempts = 0;
  let probeTimer: NodeJS.Timeout | undefined;
  let pruning = false;

  /** Normal flushing: the store is up and nothing waits in the spool. */
  const direct = () => storeUp && spills === 0 && !spool.hasPending();

  let droppedLogged = 0;
  let dropLoggedAt = Number.NEGATIVE_INFINITY;
  /** Loud, but at most a line a second when records are lost one by one. */
  const drop = (count: number, why: string) => {
    dropped += count;
    if (now() - dropLoggedAt < 1000) return;
    log(`audit: DROPPED ${dropped - droppedLogged} record(s), ${dropped} in total: ${why}`);
    droppedLogged = dropped;
    dropLoggedAt = now();
  };

  /** Moves the queue (after the batch in flight, unless already spooled) to the end of the spool. */
  const spill = () => {
    const records: AuditRecord[] = [];
    if (inflight && !inflight.spooled) {
      records.push(...inflight.records);
      inflight.spooled = true;
    }
    for (const record of queue) records.push(record);
    queue = [];
    if (records.length === 0) return;
    if (spoolClosed) {
      drop(records.length, 'they arrived after the spool was closed');
      return;
    }
    spills++;
    void spool.append(records).then((kept) => {
      spills--;
      spoolFailing = !kept;
      if (kept) return;
      // Back to the front of the queue, still before everything written since; kept in memory up
      // to the queue's size (they may include a batch that reaches the store after all: its
      // second append is then skipped by id).
      queue = records.concat(queue);
      if (!block && queue.length > queueSize) {
        drop(
          queue.length - queueSize,
          `the spool ${config.spoolFile} cannot be written and the queue is full`,
        );
        queue.length = queueSize;
      }
    });
  };

  const append = async (records: AuditRecord[]): Promise<boolean> => {
    let stored: StoredRecord[] | undefined;
    let kept: number;
    try {
      // The records as kept are made only for sinks to send.
      if (sinks.length === 0 && store.appendCount) kept = await store.appendCount(records);
      else {
        stored = await store.append(records);
        kept = stored.length;
      }
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      if (storeUp) {
        log(
          `audit: the store cannot be written (${lastError}); ${block ? 'refusing calls' : `spooling to ${config.spoolFile}`} until it is back`,
        );
      }
      storeUp = false;
      scheduleProbe();
      return false;
    }
    written += kept;
    if (!storeUp) log(`audit: the store is back; ${spool.pending} spooled record(s) to replay`);
    storeUp = true;
    probeAttempts = 0;
    for (const sink of sinks) {
      try {
        sink.accept(stored!);
      } catch (error) {
        log(`audit: sink ${sink.name} threw on accept (a bug): ${String(error)}`);
      }
    }
    return true;
  };

  /** Feeds the store until there is nothing to do, the store fails, or a partial batch is not yet due. */
  const drain = async () => {
    await spool.ready;
    while (!closed && (storeUp || probing)) {
      if (spills > 0 || spool.hasPending()) {
        if (spills > 0) await spool.idle();
        replaying ??= await spool.next(batchSize);
        if (!replaying) break;
        if (replaying.records.length > 0) {
          const ok = await append(replaying.records);
          probing = false;
          if (!ok) break;
        }
        await spool.commit(replaying);
        replaying = undefined;
        continue;
      }
      if (queue.length === 0 || (queue.length < batchSize && !flushDue && !closing && !probing)) break;
      const batch = { records: queue.splice(0, batchSize), spooled: false };
      inflight = batch;
      const ok = await append(batch.records);
      probing = false;
      // Failed: the batch, then everything after it, to the spool (unless a spill already has it).
      if (!ok) spill();
      inflight = undefined;
      if (!ok) break;
      if (queue.length === 0) flushDue = false;
    }
    // A probe that found nothing to try: assume the store is back; the next append will tell.
    if (probing) {
      probing = false;
      storeUp = true;
    }
  };

  const pump = (): Promise<void> => {
    running ??= drain()
      .catch((error) => log(`audit: writer error (a bug): ${String(error)}`))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const scheduleProbe = () => {
    if (probeTimer || closing) return;
    const delay = Math.min(PROBE_MAX_MS, PROBE_FIRST_MS * 2 ** probeAttempts) * (1 + Math.random() * 0.2);
    probeAttempts++;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      if (storeUp || closing) return;
      probing = true;
      void pump().then(() => {
        if (!storeUp) scheduleProbe();
      });
    }, delay);
    probeTimer.unref();
  };

  const tick = () => {
    if (direct()) {
      flushDue = true;
      void pump();
      return;
    }
    // The store is down or the spool is draining: the queue waits on disk, not in memory.
    spill();
    if (storeUp) void pump();
  };

  const prune = async () => {
    if (pruning || !storeUp || closing) return;
    pruning = true;
    const before = new Date(now() - config.retention.maxAgeDays * DAY_MS).toISOString();
    try {
      const removed = await store.prune({ before, maxRecords: config.retention.maxRecords });
      if (removed > 0) log(`audit: retention removed ${removed} record(s)`);
    } catch (error) {
      log(`audit: retention failed (will try again in an hour): ${String(error)}`);
    } finally {
      pruning = false;
    }
  };

  const flushTimer = setInterval(tick, flushIntervalMs);
  flushTimer.unref();
  const pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);
  pruneTimer.unref();
  // A spool left by a previous process is replayed before anything new; then retention once.
  void spool.ready.then(async () => {
    if (spool.hasPending()) await pump();
    await prune();
  });

  return {
    write(record) {
      if (closing) {
        drop(1, 'written after close');
        return false;
      }
      if (block && (!storeUp || queue.length >= queueSize)) return false;
      if (queue.length >= queueSize) {
        // The store is slow: make room by moving the queue to the spool, unless the spool is
        // failing or already has several spills to write (then this record cannot be kept).
        if (spills === 0 || (spills < MAX_SPILLS && !spoolFailing)) spill();
        if (queue.length >= queueSize) {
          drop(
            1,
            `the queue is full (${queueSize}) and the spool ${spoolFailing ? 'cannot be written' : 'is busy'}`,
          );
          return true;
        }
      }
      queue.push(record);
      if (queue.length >= batchSize && direct()) void pump();
      return true;
    },

    get blocked() {
      return block && (!storeUp || queue.length >= queueSize);
    },

    stats() {
      const stats: AuditWriterStats = {
        queued: queue.length + (inflight && !inflight.spooled ? inflight.records.length : 0),
        spooled: spool.pending,
        written,
        dropped,
        storeUp,
      };
      if (lastError !== undefined) stats.lastError = lastError;
      return stats;
    },

    async close(deadlineMs = 10_000) {
      if (closing) return;
      closing = true;
      clearInterval(flushTimer);
      clearInterval(pruneTimer);
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = undefined;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deadlineMs);
      });
      const flushed = (async () => {
        await spool.ready;
        while (!closed && storeUp && (queue.length > 0 || spills > 0 || spool.hasPending())) {
          if (spills > 0) await spool.idle();
          const before = `${queue.length} ${spool.pending} ${written} ${spool.hasPending()}`;
          await pump();
          // No progress (e.g. a spool segment that cannot be sealed): stop, the spool keeps the rest.
          if (`${queue.length} ${spool.pending} ${written} ${spool.hasPending()}` === before) break;
        }
        await running;
      })();
      const outcome = await Promise.race([flushed, deadline]);
      clearTimeout(timer);
      closed = true;
      // Whatever the store did not take waits in the spool for the next start.
      spill();
      await spool.idle();
      const left = queue.length;
      if (left > 0) drop(left, `the store and the spool ${config.spoolFile} could not take them at close`);
      queue = [];
      if (outcome === 'late') log(`audit: close took longer than ${deadlineMs} ms; the rest is in the spool`);
      else if (spool.pending > 0)
        log(`audit: ${spool.pending} record(s) left in the spool for the next start`);
      spoolClosed = true;
      await spool.close();
      const results = await Promise.allSettled([store.close(), ...sinks.map((sink) => sink.close())]);
      for (const result of results) {
        if (result.status === 'rejected') log(`audit: closing failed: ${String(result.reason)}`);
      }
    },
  };
}

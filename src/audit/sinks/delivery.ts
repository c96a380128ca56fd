// The delivery core every sink shares. A sink is a transport (how one batch reaches one kind of
// receiver) wrapped by this: a bounded queue, batches of at most `batchSize`, one delivery in
// flight (so records arrive in the order they were accepted), retries with exponential backoff
// and jitter up to `maxAttempts`, and a dead-letter file for what cannot be delivered.
//
// Invariant: every accepted record ends up counted exactly once as delivered, dead-lettered or
// (only when the dead-letter file itself cannot be written, which is logged) lost. Nothing is
// dropped silently: a full queue dead-letters the overflow, `close()` dead-letters what its
// deadline leaves.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredRecord } from '../record.ts';
import type { AuditSink, SinkStats } from '../sink.ts';

/** What one attempt to deliver a batch came to. Transports return failures; they never throw them. */
export type Attempt =
  | { ok: true }
  | {
      ok: false;
      /** Why, for the log and the dead-letter file. Never a secret (no header, no URL query). */
      error: string;
      /** The receiver refused the batch itself: retrying cannot help, so it is dead-lettered now. */
      permanent?: boolean;
      /** The receiver asked to wait this long before the next attempt (already capped). */
      retryAfterMs?: number;
      /** The first this many records of the batch did arrive (transports that send one at a time). */
      delivered?: number;
    };

/** How one kind of receiver is reached: the only part that differs between sinks. */
export interface Transport {
  /** Delivers the batch, in order. Must give up soon after `signal` aborts (the close deadline). */
  send(batch: readonly StoredRecord[], signal: AbortSignal): Promise<Attempt>;
  /** Releases connections; called once, after the last `send`. */
  close?(): Promise<void>;
}

export interface DeliveryOptions {
  /** Names the sink in stats, logs and dead-letter lines, e.g. `webhook-0`. */
  name: string;
  /** Where records go, for log lines only (host and port; never a URL with its query). */
  destination: string;
  maxAttempts: number;
  batchSize: number;
  queueSize: number;
  deadLetterFile: string;
  log: (line: string) => void;
  /** The first retry waits about this long, each next one twice as long, at most `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** `close()` keeps delivering for this long, then dead-letters what is left. */
  closeTimeoutMs?: number;
}

/** What every sink factory takes besides its config section. */
export interface SinkOptions {
  name: string;
  deadLetterFile: string;
  log: (line: string) => void;
  /** Tests shorten these; see DeliveryOptions. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  closeTimeoutMs?: number;
}

/** The delivery limits every sink section has. */
export function deliveryLimits(config: { maxAttempts: number; batchSize: number; queueSize: number }) {
  const { maxAttempts, batchSize, queueSize } = config;
  return { maxAttempts, batchSize, queueSize };
}

/** `failed` counts failed attempts: a batch delivered at its third attempt adds two. */
export interface DeliveryStats extends SinkStats {
  /** Records neither delivered nor written to the dead-letter file (it could not be written). */
  lost: number;
}

export interface DeliverySink extends AuditSink {
  stats(): DeliveryStats;
}

/** One line of a dead-letter file: the record as accepted, and why it was not delivered. */
export interface DeadLetter {
  deadLetteredAt: string;
  sink: string;
  reason: string;
  record: StoredRecord;
}

export function createDelivery(transport: Transport, options: DeliveryOptions): DeliverySink {
  const { name, destination, maxAttempts, batchSize, queueSize, deadLetterFile, log } = options;
  const baseBackoffMs = options.baseBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  for (const [key, value] of Object.entries({ maxAttempts, batchSize, queueSize })) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`audit sink ${name}: ${key} must be a positive integer`);
  }
  if (!deadLetterFile) throw new Error(`audit sink ${name}: a dead-letter file is required`);

  const queue: StoredRecord[] = [];
  let inFlight = 0;
  const counts = { delivered: 0, failed: 0, deadLettered: 0, lost: 0 };
  // `running` is cleared in the same synchronous step as the pump's last look at the queue, so
  // a record accepted at any moment is either seen by the pump or starts a new one.
  let running = false;
  let pumped: Promise<void> = Promise.resolve();
  let closed = false;
  let closing: Promise<void> | undefined;
  const deadline = new AbortController();
  // Dead-letter writes are chained so lines keep their order and close() can wait for them.
  let written: Promise<void> = Promise.resolve();

  function deadLetter(records: readonly StoredRecord[], reason: string): void {
    if (records.length === 0) return;
    const at = new Date().toISOString();
    const lines = records.map((record) => JSON.stringify({ deadLetteredAt: at, sink: name, reason, record }));
    log(`audit sink ${name} (${destination}): ${records.length} record(s) to ${deadLetterFile}: ${reason}`);
    written = written.then(async () => {
      try {
        await mkdir(dirname(deadLetterFile), { recursive: true });
        // mode applies when the file is created: only the gateway's user may read what it holds.
        await appendFile(deadLetterFile, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'a' });
        counts.deadLettered += records.length;
      } catch (error) {
        counts.lost += records.length;
        log(
          `audit sink ${name}: LOST ${records.length} record(s): cannot write ${deadLetterFile}: ${String(error)}`,
        );
      }
    });
  }

  async function attempt(batch: readonly StoredRecord[]): Promise<Attempt> {
    try {
      return await transport.send(batch, deadline.signal);
    } catch (error) {
      // Transports return failures; a throw is a bug, but the batch is still retried, not lost.
      return { ok: false, error: `unexpected: ${String(error)}` };
    }
  }

  async function deliver(first: StoredRecord[]): Promise<void> {
    let batch = first;
    for (let n = 1; ; n++) {
      inFlight = batch.length;
      const result = await attempt(batch);
      if (result.ok) {
        counts.delivered += batch.length;
        return;
      }
      counts.failed++;
      const arrived = Math.min(Math.max(result.delivered ?? 0, 0), batch.length);
      counts.delivered += arrived;
      batch = batch.slice(arrived);
      if (batch.length === 0) return;
      if (result.permanent) return deadLetter(batch, `refused: ${result.error}`);
      if (n >= maxAttempts) return deadLetter(batch, `${n} attempt(s) failed, the last: ${result.error}`);
      if (deadline.signal.aborted) return deadLetter(batch, `closed before delivery: ${result.error}`);
      const wait = result.retryAfterMs ?? backoff(n);
      log(
        `audit sink ${name} (${destination}): attempt ${n} of ${maxAttempts} failed (${result.error}); next in ${wait} ms`,
      );
      await sleep(wait, deadline.signal);
      if (deadline.signal.aborted) return deadLetter(batch, `closed before delivery: ${result.error}`);
    }
  }

  async function pump(): Promise<void> {
    try {
      while (queue.length > 0 && !deadline.signal.aborted) {
        await deliver(queue.splice(0, batchSize));
        inFlight = 0;
      }
      deadLetter(queue.splice(0), 'closed before delivery');
    } finally {
      running = false;
    }
  }

  function backoff(attempt: number): number {
    const ceiling = Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempt - 1));
    // "Equal jitter": between half and all of the ceiling, so many gateways don't retry in step.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  return {
    name,
    accept(records) {
      if (closed) return deadLetter(records, 'accepted after the sink was closed');
      const room = Math.max(0, queueSize - queue.length - inFlight);
      for (let i = 0; i < Math.min(room, records.length); i++) queue.push(records[i]!);
      if (records.length > room) deadLetter(records.slice(room), `the queue is full (${queueSize} records)`);
      if (!running && queue.length > 0) {
        running = true;
        pumped = pump();
      }
    },
    stats: () => ({ ...counts, queued: queue.length + inFlight }),
    close() {
      closing ??= (async () => {
        closed = true;
        const timer = setTimeout(() => deadline.abort(), closeTimeoutMs);
        await pumped;
        clearTimeout(timer);
        deadline.abort();
        await written;
        await transport.close?.();
      })();
      return closing;
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

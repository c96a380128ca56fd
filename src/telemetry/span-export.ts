// Finished spans on their way to the collector: a bounded queue, sent in batches over OTLP/HTTP
// (JSON) when a batch is full or the oldest span has waited `flushIntervalMs`, one export at a
// time. A full queue drops spans and the log says how many; a collector that refuses spans is
// reported once, and once more when it takes them again. Nothing here fails a request, a flush
// or the shutdown.
import http from 'node:http';
import https from 'node:https';
import { encodeSpans } from './otlp-json.ts';
import type { Span } from './span.ts';

export interface SpanExportOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxQueueSize: number;
  maxBatchSize: number;
  flushIntervalMs: number;
  /** The JSON around a batch's spans (resource and scope). */
  envelope: { before: string; after: string };
  log: (line: string) => void;
}

/** Statuses a collector uses to say "later" (OTLP/HTTP): the batch is sent again, with backoff. */
const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;

export class SpanExport {
  readonly #options: SpanExportOptions;
  readonly #url: URL;
  /** The collector's host, for the log: never the whole URL, whose query may hold a key. */
  readonly #collector: string;
  readonly #agent: http.Agent;
  #queue: Span[] = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The export under way (one at a time), settled when it and its follow-ups are done. */
  #sending: Promise<void> | undefined;
  #closed = false;
  #failing = false;
  #lost = 0;

  constructor(options: SpanExportOptions) {
    this.#options = options;
    this.#url = new URL(options.url);
    this.#collector = this.#url.host;
    const Agent = this.#url.protocol === 'https:' ? https.Agent : http.Agent;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Queues an ended span (or counts it dropped when the queue is full). */
  add(span: Span): void {
    if (this.#closed) return;
    const queue = this.#queue;
    if (queue.length >= this.#options.maxQueueSize) {
      this.#dropped++;
      return;
    }
    queue.push(span);
    if (queue.length >= this.#options.maxBatchSize) {
      if (!this.#sending) this.#send(false);
    } else if (!this.#timer) {
      this.#timer = setTimeout(this.#onTimer, this.#options.flushIntervalMs);
      this.#timer.unref(); // Spans waiting never keep the process alive; shutdown sends them.
    }
  }

  /** Sends every span queued now; settles when they are sent or lost. */
  async flush(): Promise<void> {
    while (this.#sending) await this.#sending;
    if (this.#queue.length > 0) await this.#send(true);
  }

  /** Sends what is left, then takes no more spans. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#agent.destroy();
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    if (!this.#sending && this.#queue.length > 0) this.#send(true);
  };

  /** Starts sending: full batches while there are any, or (`all`) everything queued now. */
  #send(all: boolean): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const sending = this.#drain(all ? this.#queue.length : 0);
    this.#sending = sending;
    return sending;
  }

  async #drain(count: number): Promise<void> {
    const batch = this.#options.maxBatchSize;
    try {
      while (count > 0 || this.#queue.length >= batch) {
        const spans = this.#queue.splice(0, batch);
        count -= spans.length;
        if (spans.length === 0) break;
        await this.#export(spans);
      }
    } finally {
      this.#sending = undefined;
      if (this.#dropped > 0) {
        this.#options.log(`tracing: ${this.#dropped} span(s) dropped: the export queue was full`);
        this.#dropped = 0;
      }
      if (this.#queue.length > 0 && !this.#timer && !this.#closed) {
        this.#timer = setTimeout(this.#onTimer, this.#options.flushIntervalMs);
        this.#timer.unref();
      }
    }
  }

  /** One batch to the collector, retried while it says "later" within the timeout. */
  async #export(spans: Span[]): Promise<void> {
    const body = encodeSpans(spans, this.#options.envelope);
    const deadline = Date.now() + this.#options.timeoutMs;
    let error: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#post(body, deadline - Date.now());
      if (result.ok) {
        error = undefined;
        break;
      }
      error = result.error;
      const wait =
        Math.min(result.retryAfterMs ?? 1000 * 2 ** (attempt - 1), 5000) * (0.8 + 0.4 * Math.random());
      if (!result.retry || attempt === MAX_ATTEMPTS || Date.now() + wait >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
    if (error !== undefined) {
      this.#lost += spans.length;
      if (!this.#failing) this.#options.log(`tracing: spans not accepted by ${this.#collector}: ${error}`);
      this.#failing = true;
    } else if (this.#failing) {
      this.#options.log(
        `tracing: ${this.#collector} takes spans again; ${this.#lost} span(s) were lost meanwhile`,
      );
      this.#failing = false;
      this.#lost = 0;
    }
  }

  #post(
    body: string,
    timeoutMs: number,
  ): Promise<{ ok: boolean; retry?: boolean; retryAfterMs?: number; error?: string }> {
    if (timeoutMs <= 0) return Promise.resolve({ ok: false, error: 'timed out' });
    return new Promise((resolve) => {
      const request = (this.#url.protocol === 'https:' ? https : http).request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          timeout: timeoutMs,
          headers: {
            ...this.#options.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          response.resume(); // The answer's body says nothing we use (partial success aside).
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve({ ok: true });
            const after = Number(response.headers['retry-after']);
            resolve({
              ok: false,
              retry: RETRYABLE.has(status),
              retryAfterMs: Number.isFinite(after) && after >= 0 ? after * 1000 : undefined,
              error: `HTTP ${status}`,
            });
          });
          response.on('error', (err) => resolve({ ok: false, error: err.message }));
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (err) => resolve({ ok: false, error: err.message }));
      request.end(body);
    });
  }
}

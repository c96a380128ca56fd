// One SSE stream to a session-era client whose events carry ids (`<stream>-<seq>`) and whose
// recent events are kept, so a client whose connection dropped can GET with Last-Event-ID and
// receive what it missed, then the rest live. The connection (`res`) can be replaced; the stream
// and its ids go on. Disconnection is not cancellation in this era: the call keeps running.
import type { ServerResponse } from 'node:http';

/** Events kept per stream for replay; a client that misses more than this must start over. */
const KEEP = 100;

export class EventStream {
  readonly key: string;
  #seq = 0;
  #recent: { seq: number; text: string }[] = [];
  #res?: ServerResponse;
  #ended = false;
  /** The last event written to a live connection: a plain reconnect resumes after it. */
  #delivered = 0;

  constructor(key: string) {
    this.key = key;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get attached(): boolean {
    return this.#res !== undefined && !this.#res.writableEnded && !this.#res.destroyed;
  }

  /**
   * Makes `res` (headers already written) this stream's connection: replays the kept events
   * after `after`, then carries the live ones; ends at once if the stream has already ended.
   */
  attach(res: ServerResponse, after = this.#delivered): void {
    this.#res = res;
    res.once('close', () => {
      if (this.#res === res) this.#res = undefined;
    });
    for (const e of this.#recent) if (e.seq > after) res.write(e.text);
    this.#delivered = this.#seq;
    if (this.#ended) res.end();
  }

  /** An event with an id and no data: tells the client where to resume from before anything else. */
  prime(): void {
    this.#res?.write(`id: ${this.key}-0\ndata: \n\n`);
  }

  write(data: string, end = false): void {
    const seq = ++this.#seq;
    const text = `id: ${this.key}-${seq}\ndata: ${data}\n\n`;
    this.#recent.push({ seq, text });
    if (this.#recent.length > KEEP) this.#recent.shift();
    if (end) this.#ended = true;
    const res = this.#res;
    if (!res || res.writableEnded || res.destroyed) return;
    this.#delivered = seq;
    if (end) res.end(text);
    else res.write(text);
  }

  close(): void {
    this.#ended = true;
    this.#res?.end();
  }
}

/** Splits a Last-Event-ID into the stream it names and the last event the client saw. */
export function parseEventId(id: string): { key: string; seq: number } | undefined {
  const match = /^([A-Za-z0-9_]{1,32})-(\d{1,12})$/.exec(id);
  return match ? { key: match[1]!, seq: Number(match[2]) } : undefined;
}

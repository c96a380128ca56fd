// The way back to one session-era client: the response stream of each of its requests, its
// standalone GET stream, and the server→client requests waiting for its answer. A message that
// belongs to a request goes on that request's stream; everything else on the standalone stream —
// each message on exactly one stream, never broadcast. Streams carry event ids, so a client
// whose connection dropped resumes with Last-Event-ID (`event-stream.ts`).
import type { ServerResponse } from 'node:http';
import { IdTable } from '../id-table.ts';
import { type Id, type Message, type Params, type Response, responseText } from '../jsonrpc.ts';
import type { CallSink } from '../session/session.ts';
import type { ServerRequestAnswer } from '../upstream/calls.ts';
import { EventStream, parseEventId } from './event-stream.ts';
import { sendJson } from './reply.ts';
import { sseEvent } from './sse.ts';

/** A client that never answers a server→client request must not pin memory forever. */
const ANSWER_TIMEOUT_MS = 10 * 60_000;
/** How long a request stream that ended with nobody listening stays resumable. */
const RESUME_GRACE_MS = 60_000;
/** The standalone (GET) stream's key in event ids. */
const STANDALONE = 's';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * The response to one POSTed request. It starts as nothing; the first related message turns it
 * into an SSE stream with event ids, and if the answer comes first it is sent as plain JSON
 * (cheaper, and nothing to resume).
 */
/** Where a request stream gets its resumable event stream from (the session's channel). */
interface StreamHost {
  readonly prime: boolean;
  /** A new event stream, with a fresh key, kept for resumption. */
  adopt(): EventStream;
}

export class RequestStream {
  readonly res: ServerResponse;
  #headers: Record<string, string>;
  /** Set for session-era streams, whose events carry ids and can be resumed. */
  #host?: StreamHost;
  #events?: EventStream;
  #streaming = false;

  constructor(res: ServerResponse, headers: Record<string, string>, host?: StreamHost) {
    this.res = res;
    this.#headers = headers;
    this.#host = host;
  }

  /** The id-carrying stream, once the answer became one. */
  get events(): EventStream | undefined {
    return this.#events;
  }

  /** Whether messages for this request can still reach the client (now, or on resumption). */
  get open(): boolean {
    return this.#events ? !this.#events.ended : !this.res.writableEnded && !this.res.destroyed;
  }

  send(message: Message): void {
    if (!this.#streaming) {
      if (!this.open) return;
      this.#streaming = true;
      this.res.writeHead(200, { ...this.#headers, ...SSE_HEADERS });
      if (this.#host) {
        this.#events = this.#host.adopt();
        this.#events.attach(this.res);
        if (this.#host.prime) this.#events.prime();
      }
    }
    if (this.#events) this.#events.write(JSON.stringify(message));
    else if (this.open) this.res.write(sseEvent(JSON.stringify(message)));
  }

  finish(response: Response): void {
    if (this.#events) {
      this.#events.write(responseText(response), true);
      return;
    }
    if (!this.open) return;
    if (this.#streaming) this.res.end(sseEvent(responseText(response)));
    else sendJson(this.res, 200, responseText(response), { ...this.#headers });
  }
}

export class Channel implements StreamHost {
  /** 2024-11-05 HTTP+SSE clients receive everything, responses included, on one stream. */
  readonly singleStream: boolean;
  /** Clients at 2025-11-25 or later are sent a priming event (an id, no data) on each new stream. */
  prime = false;
  #streams = new IdTable<RequestStream>();
  #standalone = new EventStream(STANDALONE);
  /** Request streams that can still be resumed, by key. */
  #resumable = new Map<string, EventStream>();
  #waiting = new Map<Id, { resolve(a: ServerRequestAnswer): void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  #nextStream = 1;

  constructor(singleStream = false) {
    this.singleStream = singleStream;
  }

  get hasStandalone(): boolean {
    return this.#standalone.attached;
  }

  /** Makes `res` (SSE headers written) the standalone stream; what was sent meanwhile follows. */
  attachStandalone(res: ServerResponse, after?: number): void {
    this.#standalone.attach(res, after);
  }

  /**
   * Resumes the stream a Last-Event-ID names on `res` (SSE headers written): the events after
   * it, then the live ones. False when no such stream is kept (the caller starts afresh).
   */
  canResume(lastEventId: string): boolean {
    const at = parseEventId(lastEventId);
    return at !== undefined && (at.key === STANDALONE || this.#resumable.has(at.key));
  }

  resume(res: ServerResponse, lastEventId: string): boolean {
    const at = parseEventId(lastEventId);
    if (!at) return false;
    if (at.key === STANDALONE) {
      this.#standalone.attach(res, at.seq);
      return true;
    }
    const stream = this.#resumable.get(at.key);
    if (!stream) return false;
    stream.attach(res, at.seq);
    return true;
  }

  /** Whether a request with this id is still being answered (ids must be unique while in flight). */
  inFlight(id: Id): boolean {
    return this.#streams.has(id);
  }

  /** The response stream for a request POSTed on `res`. */
  openRequest(id: Id, res: ServerResponse, headers: Record<string, string>): RequestStream {
    const stream = new RequestStream(res, headers, this);
    this.#streams.set(id, stream);
    return stream;
  }

  adopt(): EventStream {
    const events = new EventStream(`r${this.#nextStream++}`);
    this.#resumable.set(events.key, events);
    return events;
  }

  finishRequest(id: Id, response: Response): void {
    const stream = this.#streams.get(id);
    this.#streams.delete(id);
    if (this.singleStream || !stream) {
      this.#sendUnrelated(response);
      return;
    }
    stream.finish(response);
    const events = stream.events;
    if (!events) return;
    const key = events.key;
    // An answer read on a live connection needs no resuming; one sent into a dropped
    // connection stays for a while, for the client to come back for.
    if (events.attached) this.#resumable.delete(key);
    else setTimeout(() => this.#resumable.delete(key), RESUME_GRACE_MS).unref();
  }
  /** The sink for messages caused by request `id`. */
  sinkFor(id: Id | undefined): CallSink {
    return {
      notify: (n) => this.#send(n, id),
      request: (method, params) => this.#request(method, params, id),
    };
  }

  broadcast(message: Message): void {
    this.#sendUnrelated(message);
  }

  /** A response from the client to one of our server→client requests. */
  receive(response: Response): boolean {
    const waiting = response.id === null ? undefined : this.#waiting.get(response.id);
    if (!waiting) return false;
    this.#waiting.delete(response.id!);
    clearTimeout(waiting.timer);
    waiting.resolve(response.error ? { error: response.error } : { result: response.result ?? {} });
    return true;
  }

  close(): void {
    for (const [id, w] of this.#waiting) {
      clearTimeout(w.timer);
      w.resolve({ error: { code: -32603, message: 'the client session ended' } });
      this.#waiting.delete(id);
    }
    this.#standalone.close();
    for (const events of this.#resumable.values()) events.close();
    this.#resumable.clear();
    for (const stream of this.#streams.values()) stream.res.end();
    this.#streams.clear();
  }

  #request(
    method: string,
    params: Params | undefined,
    related: Id | undefined,
  ): Promise<ServerRequestAnswer> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve({ error: { code: -32603, message: 'the client did not answer in time' } });
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      this.#waiting.set(id, { resolve, timer });
      this.#send(
        params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params },
        related,
      );
    });
  }

  #send(message: Message, related: Id | undefined): void {
    const stream = related === undefined || this.singleStream ? undefined : this.#streams.get(related);
    if (stream?.open) stream.send(message);
    else this.#sendUnrelated(message);
  }

  #sendUnrelated(message: Message): void {
    // Kept even with no GET stream open: the client gets it when it opens (or resumes) one.
    this.#standalone.write(JSON.stringify(message));
  }
}

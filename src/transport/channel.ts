// The way back to one session-era client: the response stream of each of its requests, its
// standalone GET stream, and the server→client requests waiting for its answer. A message that
// belongs to a request goes on that request's stream; everything else on the standalone stream —
// each message on exactly one stream, never broadcast.
import type { ServerResponse } from 'node:http';
import { IdTable } from '../id-table.ts';
import type { Id, Message, Params, Response } from '../jsonrpc.ts';
import type { CallSink } from '../session/session.ts';
import type { ServerRequestAnswer } from '../upstream/calls.ts';
import { sendJson } from './reply.ts';
import { sseEvent } from './sse.ts';

/** Unrelated messages kept for a client that has no GET stream open yet. */
const MAX_QUEUED = 100;
/** A client that never answers a server→client request must not pin memory forever. */
const ANSWER_TIMEOUT_MS = 10 * 60_000;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * The response to one POSTed request. It starts as nothing; the first related message turns it
 * into an SSE stream, and if the answer comes first it is sent as plain JSON (cheaper).
 */
export class RequestStream {
  readonly res: ServerResponse;
  #headers: Record<string, string>;
  #streaming = false;

  constructor(res: ServerResponse, headers: Record<string, string>) {
    this.res = res;
    this.#headers = headers;
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  send(message: Message): void {
    if (!this.open) return;
    if (!this.#streaming) {
      this.#streaming = true;
      this.res.writeHead(200, { ...this.#headers, ...SSE_HEADERS });
    }
    this.res.write(sseEvent(JSON.stringify(message)));
  }

  finish(response: Response): void {
    if (!this.open) return;
    if (this.#streaming) {
      this.res.end(sseEvent(JSON.stringify(response)));
      return;
    }
    sendJson(this.res, 200, JSON.stringify(response), { ...this.#headers });
  }
}

export class Channel {
  /** 2024-11-05 HTTP+SSE clients receive everything, responses included, on one stream. */
  readonly singleStream: boolean;
  #streams = new IdTable<RequestStream>();
  #standalone?: ServerResponse;
  #queue: Message[] = [];
  #waiting = new Map<Id, { resolve(a: ServerRequestAnswer): void; timer: NodeJS.Timeout }>();
  #nextId = 1;

  constructor(singleStream = false) {
    this.singleStream = singleStream;
  }

  get hasStandalone(): boolean {
    return this.#standalone !== undefined;
  }

  attachStandalone(res: ServerResponse): void {
    this.#standalone = res;
    res.once('close', () => {
      if (this.#standalone === res) this.#standalone = undefined;
    });
    const queued = this.#queue;
    this.#queue = [];
    for (const m of queued) this.#sendUnrelated(m);
  }

  /** Whether a request with this id is still being answered (ids must be unique while in flight). */
  inFlight(id: Id): boolean {
    return this.#streams.has(id);
  }

  openRequest(id: Id, stream: RequestStream): void {
    this.#streams.set(id, stream);
  }

  finishRequest(id: Id, response: Response): void {
    const stream = this.#streams.get(id);
    this.#streams.delete(id);
    if (this.singleStream) this.#sendUnrelated(response);
    else stream?.finish(response);
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
    this.#standalone?.end();
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
    const res = this.#standalone;
    if (res && !res.writableEnded) {
      res.write(sseEvent(JSON.stringify(message)));
      return;
    }
    if (this.#queue.length < MAX_QUEUED) this.#queue.push(message);
  }
}

// One MCP client session with one upstream server, over any UpstreamTransport. It owns the id
// space towards the upstream: every request gets a fresh upstream id (and progress token), so
// ids from different downstream requests can never collide, and answers are mapped back.
import { GatewayError } from '../errors.ts';
import type { Id, Message, Notification, Params, Request, Response } from '../jsonrpc.ts';
import { isNotification, isRequest } from '../jsonrpc.ts';
import type { UpstreamTransport } from './transport.ts';

export const SESSION_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** What a request's caller wants to hear about while the request runs. */
export interface CallHooks {
  /** Progress and log messages that belong to this request; progress tokens are restored. */
  onNotification?(n: Notification): void;
  /** A server→client request (sampling, elicitation, roots) made while serving this request. */
  onServerRequest?(r: Request): Promise<ServerRequestAnswer>;
}

export type ServerRequestAnswer = { result: Record<string, unknown> } | { error: Response['error'] & {} };

export interface SessionHooks extends Required<CallHooks> {
  onClose(reason: string): void;
}

export interface CallOptions {
  timeoutMs: number;
  /** Progress restarts the timeout, up to this total; without it progress changes nothing. */
  maxMs?: number;
  signal?: AbortSignal;
  hooks?: CallHooks;
}

interface Pending {
  resolve(r: Response): void;
  reject(e: GatewayError): void;
  hooks?: CallHooks;
  progressToken?: string | number;
  /** Called on progress: restarts the timeout while the call is under its maximum. */
  touch?(): void;
}

export interface InitializeResult {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo?: Record<string, unknown>;
  instructions?: string;
}

export class UpstreamClient {
  readonly name: string;
  #transport: UpstreamTransport;
  #hooks: SessionHooks;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #closed = false;
  initialized?: InitializeResult;

  constructor(name: string, transport: UpstreamTransport, hooks: SessionHooks) {
    this.name = name;
    this.#transport = transport;
    this.#hooks = hooks;
    transport.onmessage = (m, relatedTo) => this.#receive(m, relatedTo);
    transport.onclose = (reason) => this.#onClosed(reason);
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts the transport and runs the initialize handshake. */
  async connect(
    init: { capabilities: Record<string, unknown>; clientInfo: Record<string, unknown> },
    timeoutMs: number,
  ): Promise<InitializeResult> {
    await this.#transport.start();
    const response = await this.request(
      'initialize',
      { protocolVersion: SESSION_VERSIONS[0], capabilities: init.capabilities, clientInfo: init.clientInfo },
      { timeoutMs },
    );
    if (response.error) {
      throw new GatewayError('upstream_protocol', `upstream "${this.name}" refused initialize`, {
        cause: response.error,
      });
    }
    const result = response.result as unknown as InitializeResult;
    if (!SESSION_VERSIONS.includes(result.protocolVersion as (typeof SESSION_VERSIONS)[number])) {
      throw new GatewayError('upstream_protocol', `upstream "${this.name}" chose unsupported version`);
    }
    this.#transport.setProtocolVersion?.(result.protocolVersion);
    await this.notify('notifications/initialized');
    this.initialized = result;
    return result;
  }

  /**
   * Sends a request; resolves with the upstream's response (result or JSON-RPC error, passed
   * through unchanged). Rejects with a GatewayError on timeout, cancellation or a dead upstream.
   */
  request(method: string, params: Params | undefined, options: CallOptions): Promise<Response> {
    if (this.#closed) {
      return Promise.reject(
        new GatewayError('upstream_unavailable', `upstream "${this.name}" is unavailable`),
      );
    }
    const id = this.#nextId++;
    let outParams = params;
    const pending: Pending = { resolve: () => {}, reject: () => {}, hooks: options.hooks };
    const meta = params?._meta as Record<string, unknown> | undefined;
    if (meta?.progressToken !== undefined) {
      // Our own token towards the upstream, so tokens of different callers never collide.
      pending.progressToken = meta.progressToken as string | number;
      outParams = { ...params, _meta: { ...meta, progressToken: id } };
    }
    const abort = new AbortController();
    return new Promise<Response>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      pending.resolve = (r) => {
        done();
        resolve(r);
      };
      pending.reject = (e) => {
        done();
        reject(e);
      };
      const cancel = (code: 'upstream_timeout' | 'request_cancelled', reason: string) => {
        if (!this.#pending.has(id)) return;
        pending.reject(new GatewayError(code, reason));
        void this.notify('notifications/cancelled', { requestId: id, reason }).catch(() => {});
        abort.abort();
      };
      const onAbort = () => cancel('request_cancelled', 'request cancelled by the client');
      if (options.signal?.aborted) return reject(new GatewayError('request_cancelled', 'request cancelled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const started = Date.now();
      const expire = () =>
        cancel('upstream_timeout', `upstream "${this.name}" did not answer ${method} in time`);
      timer = setTimeout(expire, options.timeoutMs);
      if (options.maxMs !== undefined) {
        const maxMs = options.maxMs;
        pending.touch = () => {
          clearTimeout(timer);
          const left = maxMs - (Date.now() - started);
          timer = setTimeout(expire, Math.max(0, Math.min(options.timeoutMs, left)));
        };
      }
      this.#pending.set(id, pending);
      const message: Request = { jsonrpc: '2.0', id, method, params: outParams };
      if (outParams === undefined) delete message.params;
      this.#transport.send(message, abort.signal).catch((err: unknown) => {
        if (!this.#pending.has(id)) return;
        pending.reject(
          new GatewayError('upstream_unavailable', `upstream "${this.name}" is unavailable`, { cause: err }),
        );
      });
    });
  }

  notify(method: string, params?: Params): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const message: Notification = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    return this.#transport.send(message);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#transport.close();
    this.#onClosed('closed by the gateway');
  }

  #receive(message: Message, relatedTo?: Id): void {
    if (isRequest(message)) this.#serverRequest(message, relatedTo);
    else if (isNotification(message)) this.#notification(message, relatedTo);
    else this.#response(message);
  }

  #response(message: Response): void {
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) return; // A late answer to a cancelled or timed-out request: ignored.
    pending.resolve(message);
  }

  /** The request a server message belongs to: the stream it came on, else the newest in flight. */
  #owner(relatedTo?: Id): Pending | undefined {
    if (typeof relatedTo === 'number') return this.#pending.get(relatedTo);
    let last: Pending | undefined;
    for (const p of this.#pending.values()) if (p.hooks) last = p;
    return last;
  }

  #notification(n: Notification, relatedTo?: Id): void {
    if (n.method === 'notifications/progress') {
      const token = n.params?.progressToken;
      const pending = typeof token === 'number' ? this.#pending.get(token) : undefined;
      if (pending?.progressToken === undefined) return;
      pending.touch?.();
      pending.hooks?.onNotification?.({
        ...n,
        params: { ...n.params, progressToken: pending.progressToken },
      });
      return;
    }
    if (n.method === 'notifications/message') {
      const owner = this.#owner(relatedTo);
      if (owner?.hooks?.onNotification) {
        owner.hooks.onNotification(n);
        return;
      }
    }
    this.#hooks.onNotification(n);
  }

  #serverRequest(r: Request, relatedTo?: Id): void {
    if (r.method === 'ping') {
      void this.#transport.send({ jsonrpc: '2.0', id: r.id, result: {} }).catch(() => {});
      return;
    }
    const owner = this.#owner(relatedTo);
    const handle = owner?.hooks?.onServerRequest ?? this.#hooks.onServerRequest;
    handle(r)
      .then((answer): Response => ({ jsonrpc: '2.0', id: r.id, ...answer }))
      .catch(
        (): Response => ({
          jsonrpc: '2.0',
          id: r.id,
          error: { code: -32603, message: 'the client could not answer' },
        }),
      )
      .then((response) => this.#transport.send(response))
      .catch(() => {});
  }

  #onClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      p.reject(new GatewayError('upstream_unavailable', `upstream "${this.name}" closed: ${reason}`));
    }
    this.#pending.clear();
    this.#hooks.onClose(reason);
  }
}

// One MCP client session with one upstream server, over any UpstreamTransport. It owns the id
// space towards the upstream: every request gets a fresh upstream id (and progress token), so
// ids from different downstream requests can never collide, and answers are mapped back.
import { GatewayError } from '../errors.ts';
import { IdTable } from '../id-table.ts';
import type { Id, Message, Notification, Params, Request, Response } from '../jsonrpc.ts';
import { isNotification, isRequest } from '../jsonrpc.ts';
import { MODERN_VERSION, SESSION_VERSIONS } from '../versions.ts';
import type {
  Attribution,
  CallHooks,
  CallOptions,
  ClientInit,
  Era,
  InitializeResult,
  SessionHooks,
} from './calls.ts';
import { type Deadline, unwatch, watch } from './deadlines.ts';
import {
  clientMeta,
  discovered,
  indexParamHeaders,
  listenRequest,
  type ParamHeaderIndex,
  paramHeaders,
  speaksModern,
  withInputRounds,
} from './stateless.ts';
import type { UpstreamTransport } from './transport.ts';

interface Pending {
  resolve(r: Response): void;
  reject(e: GatewayError): void;
  hooks?: CallHooks;
  progressToken?: string | number;
  /** Called on progress: restarts the timeout while the call is under its maximum. */
  touch?(): void;
  /** Questions this call has put to its client and not yet had answered: it is blocked on them. */
  asking?: number;
}

export class UpstreamClient {
  readonly name: string;
  #transport: UpstreamTransport;
  #hooks: SessionHooks;
  #nextId = 1;
  #pending = new IdTable<Pending>();
  #closed = false;
  #stateless = false;
  /** The `_meta` a stateless upstream needs on every request (version, capabilities, client). */
  #meta: Record<string, unknown> = {};
  /** Stateless upstreams: which tool arguments to mirror in `Mcp-Param-*` headers. */
  #paramHeaders: ParamHeaderIndex = new Map();
  initialized?: InitializeResult;

  #attribution: Attribution;

  constructor(name: string, transport: UpstreamTransport, attribution: Attribution, hooks: SessionHooks) {
    this.name = name;
    this.#attribution = attribution;
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

  /**
   * Starts the transport and learns what the server offers: the initialize handshake for
   * session-era servers, `server/discover` for stateless (2026-07-28) ones.
   */
  async connect(init: ClientInit, timeoutMs: number, era: Era = 'auto'): Promise<InitializeResult> {
    // One deadline for the whole of it: a server that opens a stream and then says nothing
    // must not hold a session's initialize (or the gateway's shutdown) forever.
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GatewayError(
              'upstream_timeout',
              `upstream "${this.name}" did not connect in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    const connecting = this.#handshake(init, timeoutMs, era);
    connecting.catch(() => {}); // Settles after the deadline won; nothing waits for it then.
    try {
      return await Promise.race([connecting, expired]);
    } catch (err) {
      await this.close().catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #handshake(init: ClientInit, timeoutMs: number, era: Era): Promise<InitializeResult> {
    await this.#transport.start();
    if (era === 'stateless') return this.#discover(init, timeoutMs);
    const response = await this.request(
      'initialize',
      { protocolVersion: SESSION_VERSIONS[0], capabilities: init.capabilities, clientInfo: init.clientInfo },
      { timeoutMs },
    );
    if (response.error) {
      if (era === 'auto' && speaksModern(response.error)) return this.#discover(init, timeoutMs);
      throw new GatewayError('upstream_protocol', `upstream "${this.name}" refused initialize`, {
        cause: response.error,
      });
    }
    const result = response.result as unknown as InitializeResult;
    if (!SESSION_VERSIONS.includes(result.protocolVersion)) {
      throw new GatewayError('upstream_protocol', `upstream "${this.name}" chose unsupported version`);
    }
    this.#transport.setProtocolVersion?.(result.protocolVersion);
    await this.notify('notifications/initialized');
    this.initialized = result;
    return result;
  }

  async #discover(init: ClientInit, timeoutMs: number): Promise<InitializeResult> {
    this.#stateless = true;
    this.#meta = clientMeta(init);
    this.#transport.setProtocolVersion?.(MODERN_VERSION);
    const response = await this.request('server/discover', {}, { timeoutMs });
    this.initialized = discovered(response, this.name);
    const listen = listenRequest(this.initialized.capabilities, this.#meta);
    if (listen) this.#transport.send(listen).catch(() => {});
    return this.initialized;
  }

  /**
   * Sends a request; resolves with the upstream's response (result or JSON-RPC error, passed
   * through unchanged). Rejects with a GatewayError on timeout, cancellation or a dead upstream.
   * A stateless upstream's `input_required` results are answered through the caller's hooks
   * (as the session era's server→client requests) and the request retried, so callers never
   * see the difference between the eras.
   */
  request(method: string, params: Params | undefined, options: CallOptions): Promise<Response> {
    return this.#stateless
      ? this.#statelessRequest(method, params, options)
      : this.#send(method, params, options);
  }

  async #statelessRequest(
    method: string,
    params: Params | undefined,
    options: CallOptions,
  ): Promise<Response> {
    const withMeta: Params = { ...params, _meta: { ...(params?._meta as object), ...this.#meta } };
    const headers = method === 'tools/call' ? paramHeaders(this.#paramHeaders, params) : undefined;
    const response = await withInputRounds(this.name, withMeta, options.hooks, (p) =>
      this.#send(method, p, options, headers),
    );
    if (method === 'tools/list') indexParamHeaders(this.#paramHeaders, response.result?.tools);
    return response;
  }

  #send(
    method: string,
    params: Params | undefined,
    options: CallOptions,
    headers?: Record<string, string>,
  ): Promise<Response> {
    if (this.#closed) {
      return Promise.reject(
        new GatewayError('upstream_unavailable', `upstream "${this.name}" is unavailable`),
      );
    }
    const id = this.#nextId++;
    let outParams = params;
    const pending: Pending = { resolve: () => {}, reject: () => {}, hooks: options.hooks };
    const meta = params?._meta as Record<string, unknown> | undefined;
    const traceparent = options.traceparent;
    if (meta?.progressToken !== undefined || traceparent) {
      const outMeta: Record<string, unknown> = { ...meta };
      if (meta?.progressToken !== undefined) {
        // Our own token towards the upstream, so tokens of different callers never collide.
        pending.progressToken = meta.progressToken as string | number;
        outMeta.progressToken = id;
      }
      // Ours replaces any the client sent: the upstream's parent is the gateway's span.
      if (traceparent) {
        outMeta.traceparent = traceparent;
        headers = headers ? { ...headers, traceparent } : { traceparent };
      }
      outParams = { ...params, _meta: outMeta };
    }
    return new Promise<Response>((resolve, reject) => {
      const started = Date.now();
      const deadline: Deadline = {
        at: started + options.timeoutMs,
        expire: () => cancel('upstream_timeout', `upstream "${this.name}" did not answer ${method} in time`),
      };
      const done = () => {
        unwatch(deadline);
        if (options.cancel) options.cancel.onCancel = undefined;
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
        this.#transport.cancel?.(id);
      };
      const onAbort = () => cancel('request_cancelled', 'request cancelled by the client');
      if (options.cancel?.cancelled)
        return reject(new GatewayError('request_cancelled', 'request cancelled'));
      if (options.cancel) options.cancel.onCancel = onAbort;
      watch(deadline);
      if (options.maxMs !== undefined) {
        const last = started + options.maxMs;
        pending.touch = () => {
          deadline.at = Math.min(Date.now() + options.timeoutMs, last);
        };
      }
      this.#pending.set(id, pending);
      const message: Request = { jsonrpc: '2.0', id, method, params: outParams };
      if (outParams === undefined) delete message.params;
      this.#transport.send(message, headers).catch((err: unknown) => {
        if (!this.#pending.has(id)) return;
        pending.reject(
          new GatewayError('upstream_unavailable', `upstream "${this.name}" is unavailable`, { cause: err }),
        );
      });
    });
  }

  notify(method: string, params?: Params): Promise<void> {
    // Stateless servers take no notifications from clients: closing a stream is the cancel.
    if (this.#closed || this.#stateless) return Promise.resolve();
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

  /**
   * The request a server message belongs to. The stream it came on says so exactly (Streamable
   * HTTP); otherwise (stdio, SSE) it is inferred as the attribution mode allows.
   */
  #owner(relatedTo?: Id): Pending | undefined {
    if (typeof relatedTo === 'number') return this.#pending.get(relatedTo);
    if (this.#attribution === 'exact') return undefined;
    // A call waiting for its client's answer is blocked inside the server, so the speaker is
    // more likely one that is not; failing that, a call still asking may be asking more.
    const running: Pending[] = [];
    const asking: Pending[] = [];
    for (const p of this.#pending.values()) if (p.hooks) (p.asking ? asking : running).push(p);
    const candidates = running.length > 0 ? running : asking;
    if (this.#attribution === 'sole' && candidates.length !== 1) return undefined;
    return candidates.at(-1);
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
    if (owner) owner.asking = (owner.asking ?? 0) + 1;
    handle(r)
      .finally(() => {
        if (owner) owner.asking = (owner.asking ?? 1) - 1;
      })
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

// A downstream session: one client's view of the gateway. It owns the upstream sessions opened
// on its behalf (1:1 mirroring), so a server→client request always finds its way back to the
// client whose call caused it, and nothing outlives the session.
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Id, Notification, Params, Request, Response } from '../jsonrpc.ts';
import { type Route, type View, viewFor } from '../route/catalog.ts';
import type { CallHooks, ServerRequestAnswer, UpstreamClient } from '../upstream/client.ts';
import { Supervisor } from '../upstream/supervisor.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { Lists } from './lists.ts';

/** Where messages for the client go while one of its requests runs. */
export interface CallSink {
  notify(n: Notification): void;
  request(method: string, params: Params | undefined): Promise<ServerRequestAnswer>;
}

/** Where messages unrelated to any request go (list_changed, resource updates). */
export type Broadcast = (n: Notification) => void;

export interface SessionInit {
  id: string;
  config: Config;
  view: View;
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
  log(line: string): void;
}

/** Client capabilities the gateway can route back; never declare upstream what the client lacks. */
const ROUTABLE_CLIENT_CAPABILITIES = ['roots', 'sampling', 'elicitation'];

export class Session {
  readonly id: string;
  readonly view: View;
  readonly protocolVersion: string;
  readonly clientCapabilities: Record<string, unknown>;
  lastSeen = Date.now();
  broadcast: Broadcast = () => {};
  /** Answers the client for requests not tied to one of its calls (e.g. roots/list at any time). */
  unrelatedSink?: CallSink;
  #config: Config;
  #supervisors = new Map<string, Supervisor>();
  #lists: Lists;
  #inFlight = new Map<Id, AbortController>();
  #closed = false;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.view = init.view;
    this.protocolVersion = init.protocolVersion;
    this.clientCapabilities = init.clientCapabilities;
    this.#config = init.config;
    const capabilities: Record<string, unknown> = {};
    for (const key of ROUTABLE_CLIENT_CAPABILITIES) {
      if (init.clientCapabilities[key] !== undefined) capabilities[key] = init.clientCapabilities[key];
    }
    const clientInfo = {
      name: 'gatehouse',
      version: '0.1.0',
      title: `Gatehouse for ${String(init.clientInfo.name)}`,
    };
    for (const server of init.view.servers) {
      const config = init.config.upstreams[server];
      if (!config) continue;
      this.#supervisors.set(
        server,
        new Supervisor({
          name: server,
          config,
          init: { capabilities, clientInfo },
          log: init.log,
          hooks: {
            onNotification: (n) => this.#upstreamNotification(server, n),
            onServerRequest: (r) => this.#unrelatedRequest(r),
          },
          onRestart: () => this.#lists.invalidate(server),
        }),
      );
    }
    this.#lists = new Lists(this.view, this.#supervisors, (kind) =>
      this.broadcast({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` }),
    );
  }

  /** Connects every upstream in parallel; the ones that fail are retried on use. */
  async connectAll(): Promise<void> {
    await Promise.allSettled([...this.#supervisors.values()].map((s) => s.get()));
  }

  /** What the gateway offers this client: the union of what its upstreams offer. */
  serverCapabilities(): Record<string, unknown> {
    const caps: Record<string, unknown> = {};
    for (const s of this.#supervisors.values()) {
      const c = s.capabilities ?? {};
      if (c.tools) caps.tools = { listChanged: true };
      if (c.prompts) caps.prompts = { listChanged: true };
      if (c.resources) {
        const sub = (c.resources as { subscribe?: boolean }).subscribe === true;
        caps.resources = {
          listChanged: true,
          subscribe: sub || Boolean((caps.resources as { subscribe?: boolean } | undefined)?.subscribe),
        };
      }
      if (c.logging) caps.logging = {};
      if (c.completions) caps.completions = {};
    }
    return caps;
  }

  instructions(): string | undefined {
    const parts: string[] = [];
    for (const s of this.#supervisors.values()) {
      const text = s.current?.initialized?.instructions;
      if (text) parts.push(`## ${s.name}\n${text}`);
    }
    return parts.length > 0 ? parts.join('\n\n') : undefined;
  }

  /** Handles one client request; always resolves with the response to send. */
  async handle(request: Request, sink: CallSink): Promise<Response> {
    this.lastSeen = Date.now();
    const abort = new AbortController();
    this.#inFlight.set(request.id, abort);
    try {
      return await this.#dispatch(request, sink, abort.signal);
    } finally {
      this.#inFlight.delete(request.id);
    }
  }

  /** A notification from the client. */
  notify(n: Notification): void {
    this.lastSeen = Date.now();
    if (n.method === 'notifications/cancelled') {
      const id = n.params?.requestId as Id | undefined;
      if (id !== undefined) this.#inFlight.get(id)?.abort();
    } else if (n.method === 'notifications/roots/list_changed') {
      for (const s of this.#supervisors.values()) void s.current?.notify(n.method).catch(() => {});
    }
  }

  /** Cancels a request whose client went away (modern era: closing the stream cancels). */
  cancel(id: Id): void {
    this.#inFlight.get(id)?.abort();
  }

  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const abort of this.#inFlight.values()) abort.abort();
    await Promise.allSettled([...this.#supervisors.values()].map((s) => s.close()));
  }

  async #dispatch(request: Request, sink: CallSink, signal: AbortSignal): Promise<Response> {
    const { id, method } = request;
    const params = request.params ?? {};
    switch (method) {
      case 'ping':
        return ok(id, {});
      case 'tools/list':
      case 'prompts/list':
      case 'resources/list':
      case 'resources/templates/list':
        return this.#list(request);
      case 'tools/call': {
        const route = (await this.#lists.catalog()).tool(String(params.name));
        if (!route) return fail(id, new GatewayError('unknown_tool', `Unknown tool: ${String(params.name)}`));
        return this.#forward(route, request, { ...params, name: route.name }, sink, signal);
      }
      case 'prompts/get': {
        const route = (await this.#lists.catalog()).prompt(String(params.name));
        if (!route)
          return fail(id, new GatewayError('unknown_prompt', `Unknown prompt: ${String(params.name)}`));
        return this.#forward(route, request, { ...params, name: route.name }, sink, signal);
      }
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const route = await this.#resourceRoute(String(params.uri));
        if (!route)
          return fail(id, new GatewayError('unknown_resource', `Unknown resource: ${String(params.uri)}`));
        return this.#forward(route, request, { ...params, uri: route.name }, sink, signal);
      }
      case 'completion/complete':
        return this.#complete(request, params, sink, signal);
      case 'logging/setLevel':
        await Promise.allSettled(
          [...this.#supervisors.values()]
            .filter((s) => s.capabilities?.logging)
            .map((s) => s.current?.request(method, params, { timeoutMs: s.config.timeoutMs })),
        );
        return ok(id, {});
      default:
        return fail(id, new GatewayError('method_not_found', `Method not found: ${method}`));
    }
  }

  async #list(request: Request): Promise<Response> {
    const kind =
      request.method === 'resources/templates/list' ? 'resourceTemplates' : request.method.split('/')[0]!;
    const catalog = await this.#lists.catalog();
    const items = catalog[kind as 'tools' | 'prompts' | 'resources' | 'resourceTemplates'];
    const offset = decodeCursor(request.params?.cursor, kind);
    if (offset === undefined) return fail(request.id, new GatewayError('invalid_params', 'Invalid cursor'));
    const size = this.#config.pagination.pageSize;
    const page: Record<string, unknown> = { [kind]: items.slice(offset, offset + size) };
    if (offset + size < items.length) page.nextCursor = encodeCursor(kind, offset + size);
    return ok(request.id, page);
  }

  async #resourceRoute(uri: string): Promise<Route | undefined> {
    const catalog = await this.#lists.catalog();
    const owners = [...this.#supervisors.values()]
      .filter((s) => s.capabilities?.resources)
      .map((s) => s.name);
    return catalog.resource(uri, owners);
  }

  async #complete(request: Request, params: Params, sink: CallSink, signal: AbortSignal): Promise<Response> {
    const ref = (params.ref ?? {}) as { type?: string; name?: string; uri?: string };
    const catalog = await this.#lists.catalog();
    if (ref.type === 'ref/prompt') {
      const route = catalog.prompt(String(ref.name));
      if (!route)
        return fail(request.id, new GatewayError('unknown_prompt', `Unknown prompt: ${String(ref.name)}`));
      return this.#forward(route, request, { ...params, ref: { ...ref, name: route.name } }, sink, signal);
    }
    if (ref.type === 'ref/resource') {
      const route = await this.#resourceRoute(String(ref.uri));
      if (!route)
        return fail(request.id, new GatewayError('unknown_resource', `Unknown resource: ${String(ref.uri)}`));
      return this.#forward(route, request, { ...params, ref: { ...ref, uri: route.name } }, sink, signal);
    }
    return fail(
      request.id,
      new GatewayError('invalid_params', 'completion/complete needs a ref/prompt or ref/resource'),
    );
  }

  async #forward(
    route: Route,
    request: Request,
    params: Params,
    sink: CallSink,
    signal: AbortSignal,
  ): Promise<Response> {
    const supervisor = this.#supervisors.get(route.server);
    if (!supervisor)
      return fail(request.id, new GatewayError('upstream_unavailable', 'upstream not configured'));
    const hooks: CallHooks = {
      onNotification: (n) => sink.notify(n),
      onServerRequest: (r) => sink.request(r.method, r.params),
    };
    try {
      const client: UpstreamClient = await supervisor.get();
      const response = await client.request(request.method, params, {
        timeoutMs: supervisor.config.timeoutMs,
        signal,
        hooks,
      });
      return { ...response, id: request.id };
    } catch (err) {
      if (err instanceof GatewayError) return fail(request.id, err);
      throw err;
    }
  }

  #upstreamNotification(server: string, n: Notification): void {
    const m = n.method;
    if (m === 'notifications/tools/list_changed') this.#lists.invalidate(server, 'tools');
    else if (m === 'notifications/prompts/list_changed') this.#lists.invalidate(server, 'prompts');
    else if (m === 'notifications/resources/list_changed') this.#lists.invalidate(server, 'resources');
    else if (m === 'notifications/resources/updated') {
      void this.#lists.catalog().then((catalog) => {
        const uri = catalog.exposedUri(server, String(n.params?.uri));
        this.broadcast({ ...n, params: { ...n.params, uri } });
      });
    } else if (m === 'notifications/message') this.broadcast(n);
  }

  #unrelatedRequest(r: Request): Promise<ServerRequestAnswer> {
    if (!this.unrelatedSink) {
      return Promise.resolve({ error: { code: -32601, message: 'the client cannot take requests now' } });
    }
    return this.unrelatedSink.request(r.method, r.params);
  }
}

export function ok(id: Id, value: Record<string, unknown>): Response {
  return { jsonrpc: '2.0', id, result: value };
}

export function fail(id: Id | null, err: GatewayError): Response {
  const error: Response['error'] = { code: err.rpc, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return { jsonrpc: '2.0', id, error };
}

export { viewFor };

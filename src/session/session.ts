// A downstream session: one client's view of the gateway. It owns the upstream sessions opened
// on its behalf (1:1 mirroring), so a server→client request always finds its way back to the
// client whose call caused it, and nothing outlives the session.

import type { Config, UpstreamConfig } from '../config/schema.ts';
import type { CredentialSources } from '../credentials/upstream-credential.ts';
import { subjectOf, userCredential } from '../credentials/upstream-credential.ts';
import { asGatewayError, GatewayError } from '../errors.ts';
import { IdTable } from '../id-table.ts';
import { anonymousPrincipal, type Principal } from '../identity/principal.ts';
import type { Id, Notification, Params, Request, Response } from '../jsonrpc.ts';
import type { Policy } from '../policy/engine.ts';
import { type Catalog, type View, viewFor } from '../route/catalog.ts';
import { inRequest } from '../telemetry/log-context.ts';
import type { Log } from '../telemetry/logger.ts';
import type { Interaction, Observer, RequestFacts } from '../telemetry/observation.ts';
import { auditedTraceparent } from '../telemetry/trace-context.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { type CancelToken, cancel, cancelToken, type ServerRequestAnswer } from '../upstream/calls.ts';
import type { SharedListener, SharedUpstreams } from '../upstream/shared.ts';
import { Supervisor, type SupervisorOptions } from '../upstream/supervisor.ts';
import { authorizationReply, elicitationComplete, opensLinks } from './authorization.ts';
import { Lists } from './lists.ts';
import { fail, route, type Upstreams } from './router.ts';

/** Where messages for the client go while one of its requests runs. */
export interface CallSink {
  notify(n: Notification): void;
  request(method: string, params: Params | undefined): Promise<ServerRequestAnswer>;
}

export interface SessionInit {
  id: string;
  config: Config;
  view: View;
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
  /** Upstreams configured with `share: gateway` come from here instead of being opened per session. */
  shared: SharedUpstreams;
  /** Serves many stateless clients at once: never tie an upstream's message to a guessed call. */
  pooled?: boolean;
  /** Who opened the session (a principal key): only they may use it. */
  owner?: string;
  /** The caller, for upstreams that act for the user (`onBehalfOf`); updated by each request. */
  principal?: Principal;
  /** Where user tokens for those upstreams come from. */
  credentials?: CredentialSources;
  /** Where each request's audit record goes. */
  observer?: Observer;
  /** Spans for each request, when tracing is on. */
  tracing?: Tracing;
  /** The policy in force now (replaced on reload). */
  policy(): Policy;
  log: Log;
}

/** Client capabilities the gateway can route back; never declare upstream what the client lacks. */
const ROUTABLE_CLIENT_CAPABILITIES = ['roots', 'sampling', 'elicitation'];
const LIST_KINDS = ['tools', 'prompts', 'resources'] as const;

export class Session {
  readonly id: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: Record<string, unknown>;
  /** Who opened the session; a request from anyone else is answered as if it did not exist. */
  readonly owner: string;
  lastSeen = Date.now();
  /** Where messages unrelated to any request go (list_changed, resource updates, logs). */
  broadcast: (n: Notification) => void = () => {};
  /** Answers the client for upstream requests not tied to one of its calls. */
  unrelatedSink?: CallSink;
  #view: View;
  #config: Config;
  #init: SessionInit;
  #upstreamInit: SupervisorOptions['init'];
  #supervisors = new Map<string, Supervisor>();
  #lists: Lists;
  /** What routing sees; replaced, never mutated, when a reload changes the upstreams. */
  #routing: Upstreams;
  #inFlight = new IdTable<CancelToken>();
  /** This session's listener on each shared upstream it uses (keyed by supervisor: a reload may
   *  hand out a new one under the same name while the old one is still being let go). */
  #sharedListeners = new Map<Supervisor, SharedListener>();
  /** Exposed URIs this client subscribed to: only their updates reach it. */
  #subscribed = new Set<string>();
  #closed = false;
  #connecting = 0;
  /** Long-lived things that keep the session in use without a call in flight (listen streams). */
  #holds = 0;
  #closeHooks: (() => void)[] = [];
  #principal: Principal;
  /** The client as it introduced itself at initialize, for audit records. */
  #client?: { name?: string; version?: string };

  constructor(init: SessionInit) {
    this.id = init.id;
    this.protocolVersion = init.protocolVersion;
    this.clientCapabilities = init.clientCapabilities;
    this.owner = init.owner ?? 'anonymous';
    this.#principal = init.principal ?? anonymousPrincipal();
    this.#client = clientOf(init.clientInfo);
    this.#init = init;
    this.#view = init.view;
    this.#config = init.config;
    const capabilities: Record<string, unknown> = {};
    for (const key of ROUTABLE_CLIENT_CAPABILITIES) {
      if (init.clientCapabilities[key] !== undefined) capabilities[key] = init.clientCapabilities[key];
    }
    const clientName = typeof init.clientInfo.name === 'string' ? init.clientInfo.name : 'a client';
    this.#upstreamInit = {
      capabilities,
      clientInfo: { name: 'gatehouse', version: '0.1.0', title: `Gatehouse for ${clientName}` },
    };
    for (const server of this.#view.servers) {
      const config = init.config.upstreams[server];
      if (config) this.#supervisors.set(server, this.#supervise(server, config));
    }
    this.#lists = this.#newLists();
    this.#routing = this.#snapshot();
    const users = init.credentials?.users;
    if (users)
      this.#closeHooks.push(users.onAuthorized((u, subject, id) => this.#authorized(u, subject, id)));
  }

  get view(): View {
    return this.#view;
  }

  /** Connects every upstream in parallel; the ones that fail are retried on use. */
  async connectAll(): Promise<void> {
    this.#connecting++;
    try {
      await Promise.allSettled([...this.#supervisors.values()].map((s) => s.get()));
    } finally {
      this.#connecting--;
      this.lastSeen = Date.now();
    }
  }

  /** The merged lists this session sees (for `gatehouse validate --connect` and admin views). */
  catalog(): Promise<Catalog> {
    return this.#lists.catalog();
  }

  /** Each upstream of this session: connected, or why not. */
  upstreamStatus(): { name: string; connected: boolean; error?: string }[] {
    return [...this.#supervisors.values()].map((s) =>
      s.current ? { name: s.name, connected: true } : { name: s.name, connected: false, error: s.lastError },
    );
  }

  /** What the gateway offers this client: the union of what its upstreams offer. */
  serverCapabilities(): Record<string, unknown> {
    const caps: Record<string, unknown> = {};
    let subscribe = false;
    for (const s of this.#supervisors.values()) {
      const c = s.capabilities ?? {};
      // listChanged is always offered: a reload or an upstream restart can change any list.
      if (c.tools) caps.tools = { listChanged: true };
      if (c.prompts) caps.prompts = { listChanged: true };
      if (c.resources) {
        subscribe ||= (c.resources as { subscribe?: boolean }).subscribe === true;
        caps.resources = { listChanged: true, subscribe };
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

  /**
   * Handles one client request; always resolves with the response to send. Every request
   * leaves exactly one audit record, whatever its outcome.
   */
  async handle(
    request: Request,
    sink: CallSink,
    principal: Principal,
    facts?: RequestFacts,
  ): Promise<Response> {
    const started = performance.now();
    const startedAt = Date.now();
    this.lastSeen = startedAt;
    this.#principal = principal; // The same caller (the owner), perhaps with a renewed token.
    const seen: Interaction = {};
    const tracing = this.#init.tracing;
    if (tracing) {
      facts ??= {};
      seen.span = tracing.begin(request, facts, {
        session: this.#init.pooled ? undefined : this.id,
        protocolVersion: this.protocolVersion,
        virtualServer: this.#view.name,
      });
    } else if (facts?.parent) {
      seen.traceparent = auditedTraceparent(facts);
    }
    let response: Response | undefined;
    // Log lines written while serving carry the request's trace, span, session and method.
    const context = {
      traceId: facts?.traceId,
      spanId: facts?.spanId,
      session: this.#init.pooled ? undefined : this.id,
      method: request.method,
    };
    try {
      response = await inRequest(context, () => this.#serve(request, sink, principal, seen));
      return response;
    } finally {
      seen.span?.end(response, seen);
      this.#init.observer?.record({
        started,
        startedAt,
        method: request.method,
        principal,
        facts,
        client: this.#client,
        session: this.#init.pooled ? undefined : this.id,
        virtualServer: this.#view.name,
        seen,
        response,
      });
    }
  }

  async #serve(request: Request, sink: CallSink, principal: Principal, seen: Interaction): Promise<Response> {
    if (this.#closed) return fail(request.id, new GatewayError('session_not_found', 'Session ended'));
    if (this.#init.observer?.blocked) {
      return fail(
        request.id,
        new GatewayError('audit_unavailable', 'Audit records cannot be kept now; try again later'),
      );
    }
    const token = cancelToken();
    this.#inFlight.set(request.id, token);
    try {
      // The snapshot is taken now: a reload during the call does not change where it goes.
      const response = await route(this.#routing, request, sink, token, principal, seen);
      if (response.result && request.method === 'resources/subscribe')
        this.#subscribed.add(String(request.params?.uri));
      if (request.method === 'resources/unsubscribe') this.#subscribed.delete(String(request.params?.uri));
      return response;
    } catch (err) {
      // A bug, not an expected outcome: logged for the operator, a plain internal error for the client.
      this.#init.log(`internal error handling ${request.method}: ${String((err as Error)?.stack ?? err)}`, {
        level: 'error',
      });
      return fail(request.id, asGatewayError(err));
    } finally {
      this.#inFlight.delete(request.id);
      this.lastSeen = Date.now();
    }
  }

  /** A notification from the client. */
  notify(n: Notification): void {
    this.lastSeen = Date.now();
    if (n.method === 'notifications/cancelled') {
      const id = n.params?.requestId as Id | undefined;
      if (id !== undefined) this.cancel(id);
    } else if (n.method === 'notifications/roots/list_changed') {
      for (const s of this.#supervisors.values()) void s.current?.notify(n.method).catch(() => {});
    }
  }

  cancel(id: Id): void {
    const token = this.#inFlight.get(id);
    if (token) cancel(token);
  }

  /** A session connecting, with a call in flight or held open is not idle, however long that takes. */
  get busy(): boolean {
    return this.#inFlight.size > 0 || this.#connecting > 0 || this.#holds > 0;
  }

  /** Keeps the session from counting as idle until the returned function is called. */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.lastSeen = Date.now();
    };
  }

  /** Runs `hook` when the session ends (for streams that must end with it). */
  onClose(hook: () => void): void {
    this.#closeHooks.push(hook);
  }

  /**
   * Moves the session onto a new config: unchanged upstreams stay connected, changed or removed
   * ones are retired once their calls in flight finish, new ones connect on first use. Returns
   * false when the session's virtual server no longer exists (the caller ends the session).
   */
  reconfigure(config: Config): boolean {
    const view = viewFor(config, this.#view.name);
    if (!view) return false;
    const next = new Map<string, Supervisor>();
    for (const server of view.servers) {
      const upstream = config.upstreams[server];
      if (!upstream) continue;
      const current = this.#supervisors.get(server);
      next.set(
        server,
        current && same(current.config, upstream) ? current : this.#supervise(server, upstream),
      );
    }
    for (const [server, s] of this.#supervisors) if (next.get(server) !== s) this.#drop(server, s, 'retire');
    this.#config = config;
    this.#view = view;
    this.#supervisors = next;
    this.#lists = this.#newLists();
    this.#routing = this.#snapshot();
    for (const kind of LIST_KINDS)
      this.broadcast({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const hook of this.#closeHooks.splice(0)) hook();
    for (const token of this.#inFlight.values()) cancel(token);
    await Promise.allSettled([...this.#supervisors].map(([server, s]) => this.#drop(server, s, 'close')));
  }

  /** Lets go of an upstream: a shared one stays up for the other sessions, our own is stopped. */
  #drop(server: string, s: Supervisor, how: 'retire' | 'close'): Promise<void> {
    if (s.shared) {
      // Never stopped from here: the other sessions still use it, and SharedUpstreams retires it.
      const listener = this.#sharedListeners.get(s);
      if (listener) {
        this.#init.shared.leaveAll(server, listener);
        this.#init.shared.release(server, listener);
      }
      this.#sharedListeners.delete(s);
      return Promise.resolve();
    }
    return how === 'retire' ? s.retire() : s.close();
  }

  #supervise(server: string, config: UpstreamConfig): Supervisor {
    if (config.share === 'gateway') {
      const listener: SharedListener = {
        onNotification: (n) => this.#upstreamNotification(server, n),
        onRestart: () => this.#lists.invalidate(server),
      };
      const supervisor = this.#init.shared.acquire(server, config, listener);
      this.#sharedListeners.set(supervisor, listener);
      return supervisor;
    }
    return new Supervisor({
      name: server,
      config,
      credential:
        config.transport !== 'stdio' && config.onBehalfOf && this.#init.credentials
          ? userCredential(
              this.#init.credentials,
              server,
              config.url,
              config.onBehalfOf,
              () => this.#principal,
            )
          : undefined,
      init: this.#upstreamInit,
      attribution: this.#init.pooled ? 'sole' : 'newest',
      log: this.#init.log,
      hooks: {
        onNotification: (n) => this.#upstreamNotification(server, n),
        onServerRequest: (r) => this.#unrelatedRequest(r),
      },
      onRestart: () => this.#lists.invalidate(server),
    });
  }

  #snapshot(): Upstreams {
    const lists = this.#lists;
    const supervisors = this.#supervisors;
    return {
      config: this.#config,
      policy: this.#init.policy(),
      log: this.#init.log,
      catalog: () => lists.catalog(),
      supervisors: () => supervisors,
      authorizationNeeded: (request, err) => authorizationReply(request, err, this.#opensLinks()),
      passesSubscription: (server, method, uri) => {
        const s = supervisors.get(server);
        const listener = s?.shared ? this.#sharedListeners.get(s) : undefined;
        if (!listener) return true; // Our own upstream session: always passes.
        return this.#init.shared.follow(server, uri, listener, method === 'resources/subscribe');
      },
    };
  }

  #newLists(): Lists {
    return new Lists(
      this.#view,
      this.#supervisors,
      (kind) => this.broadcast({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` }),
      this.#init.log,
      this.#init.credentials?.lists,
    );
  }

  #upstreamNotification(server: string, n: Notification): void {
    const kind = /^notifications\/(tools|prompts|resources)\/list_changed$/.exec(n.method)?.[1];
    if (kind) this.#lists.invalidate(server, kind as (typeof LIST_KINDS)[number]);
    else if (n.method === 'notifications/resources/updated') {
      this.#lists.catalog().then(
        (catalog) => {
          const uri = catalog.exposedUri(server, String(n.params?.uri));
          if (!this.#subscribed.has(uri)) return;
          this.broadcast({ ...n, params: { ...n.params, uri } });
        },
        (err: unknown) => this.#init.log(`[${server}] resource update not delivered: ${String(err)}`),
      );
    } else if (n.method === 'notifications/message') this.broadcast(n);
  }

  /**
   * A user finished authorizing an upstream: if it was this session's user, the upstream's lists
   * are fetched again (the client is told they changed) and a URL-mode elicitation is completed.
   */
  #authorized(upstream: string, subject: string, elicitationId: string): void {
    if (!this.#supervisors.has(upstream) || subject !== subjectOf(this.#principal)) return;
    this.#lists.invalidate(upstream);
    if (this.#opensLinks()) this.broadcast(elicitationComplete(elicitationId));
  }

  #opensLinks(): boolean {
    return opensLinks(this.protocolVersion, this.clientCapabilities, this.#init.pooled === true);
  }

  #unrelatedRequest(r: Request): Promise<ServerRequestAnswer> {
    if (!this.unrelatedSink) {
      return Promise.resolve({ error: { code: -32601, message: 'the client cannot take requests now' } });
    }
    return this.unrelatedSink.request(r.method, r.params);
  }
}

/** Name and version as the client gave them, if it gave them as text. */
export function clientOf(
  info: Record<string, unknown> | undefined,
): { name?: string; version?: string } | undefined {
  const name = typeof info?.name === 'string' ? info.name.slice(0, 100) : undefined;
  const version = typeof info?.version === 'string' ? info.version.slice(0, 50) : undefined;
  if (!name && !version) return undefined;
  // No undefined members: the audit record keeps it as plain JSON (audit/prepared.ts).
  const client: { name?: string; version?: string } = {};
  if (name) client.name = name;
  if (version) client.version = version;
  return client;
}

function same(a: UpstreamConfig, b: UpstreamConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// Streamable HTTP, stateless era (2026-07-28): no initialize and no session; every request
// carries its version and client capabilities in `_meta`, mirrored in Mcp-Method / Mcp-Name
// headers. Requests are served by a pooled context per (virtual server, client capabilities).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { Request, Response } from '../jsonrpc.ts';
import { isRequest, parseBody } from '../jsonrpc.ts';
import { viewFor } from '../route/catalog.ts';
import { fail, ok } from '../session/router.ts';
import { clientOf, Session } from '../session/session.ts';
import type { RequestFacts } from '../telemetry/observation.ts';
import { META, MODERN_VERSION, SESSION_VERSIONS } from '../versions.ts';
import { Channel, RequestStream } from './channel.ts';
import type { GatewayContext } from './context.ts';
import { principalKey, principalOf } from './edge-auth.ts';
import { requestFacts } from './facts.ts';
import {
  completeResult,
  headerMismatch,
  inputResponsesOf,
  logFilter,
  MODERN_METHODS,
  modernError,
  NAMED_METHODS,
  validate,
} from './modern-wire.ts';
import { type HeldCall, heldCalls } from './mrtr.ts';
import { paramHeaderMismatch } from './param-headers.ts';
import { sendJson } from './reply.ts';
import { handleListen } from './subscriptions.ts';

/** The only requests that may answer `input_required` (SEP-2322). */
const MAY_ASK = new Set(['tools/call', 'prompts/get', 'resources/read']);

/**
 * Modern when the client says so in the header, or when a request without a session carries the
 * modern `_meta` (whatever version it names: an unsupported one must get this era's -32022).
 */
export function isModernRequest(req: IncomingMessage, body: string): boolean {
  if (req.headers['mcp-protocol-version'] === MODERN_VERSION) return true;
  return req.headers['mcp-session-id'] === undefined && body.includes(`"${META}protocolVersion"`);
}

export async function handleModernPost(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  virtualServer: string | undefined,
  body: string,
): Promise<void> {
  const parsed = parseBody(body, false);
  if (Array.isArray(parsed)) throw new GatewayError('batch_not_supported', 'batches are not supported');
  const message = parsed.message;
  if (!isRequest(message)) {
    res.writeHead(202).end(); // Notifications carry nothing a stateless server must act on.
    return;
  }
  const { id, method } = message;
  const principal = principalOf(req);
  const timing = { started: performance.now(), startedAt: Date.now() };
  const meta = (message.params?._meta ?? {}) as Record<string, unknown>;
  const facts = requestFacts(req, message.params);
  facts.client = clientOf(meta[`${META}clientInfo`] as Record<string, unknown> | undefined);
  /** Answers here, not through a session: such answers get their audit record here too. */
  const answer = (response: Response, status = 200) => {
    ctx.observer.record({ ...timing, method, principal, facts, virtualServer, response });
    reply(res, response, status);
  };
  const rejection = validate(req, message);
  if (rejection) return answer(fail(id, rejection.error), rejection.status);
  if (!MODERN_METHODS.has(method)) {
    // Removed session-era methods (ping, logging/setLevel, resources/subscribe, ...) included.
    return answer(fail(id, new GatewayError('method_not_found', `Method not found: ${method}`)), 404);
  }
  const params = message.params!;
  const capabilities = meta[`${META}clientCapabilities`] as Record<string, unknown>;
  const session = await pooled(ctx, virtualServer, capabilities, principal);

  if (method === 'server/discover') {
    return answer(
      ok(
        id,
        completeResult(method, {
          supportedVersions: [MODERN_VERSION, ...SESSION_VERSIONS],
          capabilities: session.serverCapabilities(),
          ...(session.instructions() ? { instructions: session.instructions() } : {}),
        }),
      ),
    );
  }
  if (method === 'subscriptions/listen') return handleListen(session, message, res, principal);
  const header = method === 'tools/call' ? await paramHeaderMismatch(session, req, params) : undefined;
  if (header) return answer(fail(id, headerMismatch(header)), 400);

  const started = startOrResume(session, message, principal, facts);
  if (started instanceof GatewayError) return answer(fail(id, started));
  const held = started;
  const stream = new RequestStream(res, {});
  // Closing the response stream cancels the request in this era.
  res.once('close', () => {
    if (!res.writableFinished) held.cancel();
  });
  const keep = logFilter(meta);
  held.onNotification = (n) => {
    if (keep(n)) stream.send(n);
  };
  const outcome = await ctx.track(held.next());
  held.onNotification = undefined;
  if (outcome.kind === 'input') {
    return stream.finish(
      ok(id, {
        resultType: 'input_required',
        inputRequests: outcome.inputRequests,
        requestState: outcome.requestState,
      }),
    );
  }
  if (outcome.kind === 'missing_capability') {
    held.cancel();
    const names = Object.keys(outcome.requiredCapabilities).join(', ');
    const data = { requiredCapabilities: outcome.requiredCapabilities };
    const error = new GatewayError('missing_client_capability', `Missing client capability: ${names}`, {
      data,
    });
    return finish(res, stream, fail(id, error), error.http);
  }
  const response: Response = { ...outcome.response, id };
  if (response.result) response.result = completeResult(method, response.result);
  if (response.error) response.error = modernError(message, response.error);
  finish(res, stream, response, response.error?.code === -32601 ? 404 : 200);
}

/** A fresh call, or the held call a retry's `requestState` names; a GatewayError when neither. */
function startOrResume(
  session: Session,
  message: Request,
  principal: Principal,
  facts: RequestFacts,
): HeldCall | GatewayError {
  const params = message.params!;
  const field = NAMED_METHODS[message.method];
  // A requestState is bound to who asked, and for what: anyone else's retry is refused.
  const origin = `${principalKey(principal)} ${message.method} ${field ? String(params[field]) : ''}`;
  const responses = inputResponsesOf(params);
  if (responses === null) {
    return new GatewayError(
      'invalid_params',
      'Invalid params: inputResponses must map keys to result objects',
    );
  }
  const requestState = params.requestState;
  if (requestState !== undefined) {
    const held =
      typeof requestState === 'string' ? heldCalls.resume(requestState, origin, responses ?? {}) : undefined;
    // Unknown, spent, expired, altered or issued for another request: never start afresh on it.
    return (
      held ?? new GatewayError('invalid_params', 'Invalid params: requestState is not valid for this request')
    );
  }
  // A fresh id per call: stateless clients' ids need not be unique across requests.
  const call: Request = { ...message, id: `m${++callIds}`, params: stripMeta(params) };
  return heldCalls.start(
    (sink) => session.handle(call, sink, principal, facts),
    () => session.cancel(call.id),
    // The pool's capabilities: those of this request, as the upstream was told them.
    {
      capabilities: session.clientCapabilities,
      presets: responses,
      origin,
      mayAsk: MAY_ASK.has(message.method),
    },
  );
}

/** The final answer: with its own HTTP status when nothing was streamed yet, else on the stream. */
function finish(res: ServerResponse, stream: RequestStream, response: Response, status: number): void {
  if (!res.headersSent && status !== 200) reply(res, response, status);
  else stream.finish(response);
}

function stripMeta(params: Record<string, unknown>): Record<string, unknown> {
  const meta = { ...(params._meta as Record<string, unknown>) };
  for (const key of Object.keys(meta)) if (key.startsWith(META)) delete meta[key];
  const { requestState: _s, inputResponses: _i, ...rest } = params;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}

/** One shared upstream context per (virtual server, client capabilities): stateless clients reuse it. */
async function pooled(
  ctx: GatewayContext,
  virtualServer: string | undefined,
  caps: Record<string, unknown>,
  principal: Principal,
) {
  const view = viewFor(ctx.config, virtualServer);
  if (!view) throw new GatewayError('not_found', `No virtual server named ${JSON.stringify(virtualServer)}`);
  const routable = routableCapabilities(caps);
  // An upstream that acts for the user must never carry one caller's token for another: such
  // views get a context per caller.
  const perCaller = view.servers.some((s) => {
    const u = ctx.config.upstreams[s];
    return u !== undefined && u.transport !== 'stdio' && u.onBehalfOf !== undefined;
  });
  const owner = perCaller ? principalKey(principal) : '';
  const key = `modern:${virtualServer ?? ''}:${JSON.stringify(routable)}:${owner}`;
  const existing = ctx.pool.get(key);
  if (existing) return existing.session;
  let starting = startingByPool.get(ctx.pool);
  if (!starting) {
    starting = new Map();
    startingByPool.set(ctx.pool, starting);
  }
  const connecting = starting.get(key);
  if (connecting) return connecting;
  const session = new Session({
    id: key,
    config: ctx.config,
    view,
    protocolVersion: MODERN_VERSION,
    clientCapabilities: routable,
    clientInfo: { name: 'stateless clients' },
    shared: ctx.shared,
    policy: () => ctx.policy,
    pooled: true,
    principal,
    owner: owner || undefined,
    credentials: ctx.credentials,
    observer: ctx.observer,
    tracing: ctx.tracing,
    log: ctx.log,
  });
  const ready = session.connectAll().then(() => {
    ctx.pool.add({ session, channel: new Channel() });
    starting.delete(key);
    return session;
  });
  starting.set(key, ready);
  return ready;
}

/** The sub-capabilities each routable client capability may carry (2025-11-25 / 2026-07-28). */
const KNOWN_SUB_CAPABILITIES: Record<string, readonly string[]> = {
  roots: ['listChanged'],
  sampling: ['context', 'tools'],
  elicitation: ['form', 'url'],
};

/**
 * What the pool is keyed on and the upstream is told: only capabilities and sub-capabilities the
 * gateway knows, so junk in a client's `_meta` can neither mint a new pool (and upstream
 * processes) per request nor reach an upstream. At most a few dozen distinct sets exist.
 */
function routableCapabilities(caps: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const routable: Record<string, Record<string, unknown>> = {};
  for (const [name, subs] of Object.entries(KNOWN_SUB_CAPABILITIES)) {
    const declared = caps[name];
    if (typeof declared !== 'object' || declared === null) continue;
    const kept: Record<string, unknown> = {};
    for (const sub of subs) {
      const value = (declared as Record<string, unknown>)[sub];
      if (sub === 'listChanged') {
        if (value === true) kept.listChanged = true;
      } else if (typeof value === 'object' && value !== null) kept[sub] = {};
    }
    routable[name] = kept;
  }
  return routable;
}

/** Contexts being connected, so concurrent first requests share one. */
const startingByPool = new WeakMap<object, Map<string, Promise<Session>>>();

let callIds = 0;

function reply(res: ServerResponse, response: unknown, status = 200): void {
  sendJson(res, status, JSON.stringify(response));
}

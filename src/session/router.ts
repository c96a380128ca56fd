// Where each client request goes: answered by the gateway (lists, ping), or forwarded to the
// one upstream that owns the named tool, prompt or resource. Names are rewritten to what the
// upstream knows; anything the view does not show is "not found" and never forwarded.

import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { Id, Params, Request, Response } from '../jsonrpc.ts';
import type { Policy } from '../policy/engine.ts';
import type { Target } from '../policy/types.ts';
import type { Catalog, Route } from '../route/catalog.ts';
import type { Log } from '../telemetry/logger.ts';
import type { Interaction } from '../telemetry/observation.ts';
import type { CancelToken } from '../upstream/calls.ts';
import { SessionExpired } from '../upstream/streamable-http.ts';
import type { Supervisor } from '../upstream/supervisor.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { CallSink } from './session.ts';

/** What routing needs from the session it serves. */
export interface Upstreams {
  readonly config: Config;
  catalog(): Promise<Catalog>;
  supervisors(): ReadonlyMap<string, Supervisor>;
  /**
   * For a subscription change on an upstream shared by many sessions: whether it must reach the
   * upstream (the first to subscribe, the last to unsubscribe) or is already true there.
   */
  passesSubscription(server: string, method: string, uri: string): boolean;
  /** The answer when an upstream acting for the user needs the user to authorize it first. */
  authorizationNeeded(request: Request, err: GatewayError): Response;
  /** The policy in force when the call started. */
  readonly policy: Policy;
  log: Log;
}

type ListKey = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

const LIST_KEYS: Record<string, ListKey> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

export async function route(
  u: Upstreams,
  request: Request,
  sink: CallSink,
  cancel: CancelToken,
  principal: Principal,
  seen: Interaction = {},
): Promise<Response> {
  const { id, method } = request;
  const params = request.params ?? {};
  const listKey = LIST_KEYS[method];
  if (listKey) return list(u, request, listKey, principal, seen);
  switch (method) {
    case 'ping':
      return ok(id, {});
    case 'tools/call':
    case 'prompts/get': {
      // The two calls that name their target and carry arguments differ only in the kind.
      const tool = method === 'tools/call';
      const name = String(params.name);
      seen.target = name;
      seen.arguments = params.arguments;
      const catalog = await u.catalog();
      const target = tool ? catalog.tool(name) : catalog.prompt(name);
      // Built only when needed: an Error captures a stack, which costs more than routing the call.
      const unknown = () =>
        tool
          ? new GatewayError('unknown_tool', `Unknown tool: ${name}`)
          : new GatewayError('unknown_prompt', `Unknown prompt: ${name}`);
      if (!target) return fail(id, unknown());
      const targetOf = () => catalog.targetOf(tool ? 'tool' : 'prompt', name, target.server);
      seen.upstream = target.server;
      const refused = authorize(u, principal, targetOf, params.arguments, unknown, seen);
      if (refused) return fail(id, refused);
      return forward(u, target, request, { ...params, name: target.name }, sink, cancel, seen);
    }
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      const uri = String(params.uri);
      seen.target = uri;
      const target = await resourceRoute(u, uri);
      const unknown = () => new GatewayError('unknown_resource', `Unknown resource: ${uri}`);
      if (!target) return fail(id, unknown());
      seen.upstream = target.server;
      const catalog = await u.catalog();
      const refused = authorize(
        u,
        principal,
        () => catalog.targetOf('resource', uri, target.server),
        undefined,
        unknown,
        seen,
      );
      if (refused) return fail(id, refused);
      if (method !== 'resources/read' && !u.passesSubscription(target.server, method, target.name)) {
        return ok(id, {});
      }
      return forward(u, target, request, { ...params, uri: target.name }, sink, cancel, seen);
    }
    case 'completion/complete':
      return complete(u, request, params, sink, cancel, principal, seen);
    case 'logging/setLevel':
      // Every upstream that logs gets the level; the client sees one answer.
      await Promise.allSettled(
        [...u.supervisors().values()]
          .filter((s) => s.capabilities?.logging)
          .map((s) => s.current?.request(method, params, { timeoutMs: s.config.timeoutMs })),
      );
      return ok(id, {});
    default:
      return fail(id, new GatewayError('method_not_found', `Method not found: ${method}`));
  }
}

/**
 * The policy's verdict on a call. What the principal may not see is "unknown", exactly as if it
 * did not exist; what it may see but not call with these arguments is denied. Shadow mode logs
 * what enforcement would have refused and lets the call through.
 */
function authorize(
  u: Upstreams,
  principal: Principal,
  targetOf: () => Target,
  args: unknown,
  unknown: () => GatewayError,
  seen: Interaction,
): GatewayError | undefined {
  if (!governs(u.policy)) return undefined; // No rules: nothing to decide, nothing to build.
  const target = targetOf();
  const trace = seen.span;
  const span = trace?.policy();
  const decision = u.policy.decide(principal, target, args);
  seen.policy = {
    decision: decision.allow ? (decision.wouldAllow ? 'allow' : 'shadow-deny') : 'deny',
    ...(decision.ruleId ? { ruleId: decision.ruleId } : {}),
  };
  if (span) trace?.endPolicy(span, seen.policy, decision.enforced);
  if (!decision.enforced && !decision.wouldAllow) {
    u.log(
      `policy (shadow) would deny ${target.kind} ${target.name} to ${who(principal)}: ${decision.reason}`,
    );
  }
  if (decision.allow) return undefined;
  u.log(`policy denied ${target.kind} ${target.name} to ${who(principal)}: ${decision.reason}`);
  seen.outcome = 'denied';
  seen.reason = decision.reason;
  if (!u.policy.visible(principal, target)) return unknown();
  return new GatewayError(
    'policy_denied',
    `Denied by policy${decision.ruleId ? ` (rule ${decision.ruleId})` : ''}`,
  );
}

function who(p: Principal): string {
  return (
    [p.agent && `agent ${p.agent}`, p.user && `user ${p.user}`, p.keyId && `key ${p.keyId}`]
      .filter(Boolean)
      .join(', ') || p.kind
  );
}

/** Whether the policy can refuse anything at all. */
function governs(policy: Policy): boolean {
  return policy.mode !== 'off' && policy.rules.length > 0;
}

async function list(
  u: Upstreams,
  request: Request,
  key: ListKey,
  principal: Principal,
  seen: Interaction,
): Promise<Response> {
  const catalog = await u.catalog();
  let items = catalog[key];
  if (governs(u.policy)) {
    const span = seen.span?.filter();
    items = u.policy.filter(principal, catalog.targets(key)).map((t) => t.item);
    if (span) seen.span?.endFilter(span, catalog[key].length, items.length);
  }
  const offset = decodeCursor(request.params?.cursor, key);
  if (offset === undefined) return fail(request.id, new GatewayError('invalid_params', 'Invalid cursor'));
  const size = u.config.pagination.pageSize;
  const page: Record<string, unknown> = { [key]: items.slice(offset, offset + size) };
  if (offset + size < items.length) page.nextCursor = encodeCursor(key, offset + size);
  return ok(request.id, page);
}

async function resourceRoute(u: Upstreams, uri: string): Promise<Route | undefined> {
  const owners = [...u.supervisors().values()].filter((s) => s.capabilities?.resources).map((s) => s.name);
  return (await u.catalog()).resource(uri, owners);
}

async function complete(
  u: Upstreams,
  request: Request,
  params: Params,
  sink: CallSink,
  cancel: CancelToken,
  principal: Principal,
  seen: Interaction,
) {
  const ref = (params.ref ?? {}) as { type?: string; name?: string; uri?: string };
  seen.target = ref.type === 'ref/prompt' ? String(ref.name) : String(ref.uri);
  const catalog = await u.catalog();
  if (ref.type === 'ref/prompt') {
    const name = String(ref.name);
    const target = catalog.prompt(name);
    const unknown = () => new GatewayError('unknown_prompt', `Unknown prompt: ${name}`);
    // Completing an argument of something one may not see would reveal it.
    if (!target || !u.policy.visible(principal, catalog.targetOf('prompt', name, target.server))) {
      return fail(request.id, unknown());
    }
    seen.upstream = target.server;
    return forward(u, target, request, { ...params, ref: { ...ref, name: target.name } }, sink, cancel, seen);
  }
  if (ref.type === 'ref/resource') {
    const uri = String(ref.uri);
    const target = await resourceRoute(u, uri);
    const unknown = () => new GatewayError('unknown_resource', `Unknown resource: ${uri}`);
    if (!target || !u.policy.visible(principal, catalog.targetOf('resource', uri, target.server))) {
      return fail(request.id, unknown());
    }
    seen.upstream = target.server;
    return forward(u, target, request, { ...params, ref: { ...ref, uri: target.name } }, sink, cancel, seen);
  }
  return fail(
    request.id,
    new GatewayError('invalid_params', 'completion/complete needs a ref/prompt or ref/resource'),
  );
}

async function forward(
  u: Upstreams,
  target: Route,
  request: Request,
  params: Params,
  sink: CallSink,
  cancel: CancelToken,
  seen: Interaction,
): Promise<Response> {
  const supervisor = u.supervisors().get(target.server);
  if (!supervisor)
    return fail(request.id, new GatewayError('upstream_unavailable', 'upstream not configured'));
  // The upstream's spans are children of ours: the call carries the traceparent naming our
  // upstream span (tracing on), or our audit record's span (tracing off, the client sent one).
  const trace = seen.span;
  const span = trace?.upstream(request.method, target.server, target.name, supervisor.config);
  const traceparent = span ? trace?.traceparent(span) : seen.traceparent;
  const send = async () => {
    const client = await supervisor.get();
    const sent = performance.now();
    try {
      return await client.request(request.method, params, {
        timeoutMs:
          (request.method === 'tools/call' ? supervisor.config.toolTimeoutsMs[target.name] : undefined) ??
          supervisor.config.timeoutMs,
        maxMs: supervisor.config.maxCallMs,
        cancel,
        traceparent,
        hooks: {
          onNotification: (n) => sink.notify(n),
          onServerRequest: (r) => sink.request(r.method, r.params),
        },
      });
    } finally {
      seen.upstreamMs = (seen.upstreamMs ?? 0) + performance.now() - sent;
    }
  };
  try {
    // An upstream that restarted and forgot our session never ran the call: reconnect and resend once.
    const response = await send().catch((err: unknown) => {
      if (err instanceof GatewayError && err.cause instanceof SessionExpired) return send();
      throw err;
    });
    if (span) trace?.endUpstream(span, response);
    return { ...response, id: request.id };
  } catch (thrown) {
    if (span) trace?.endUpstream(span, undefined, failure(thrown));
    if (!(thrown instanceof GatewayError)) throw thrown;
    let err = thrown;
    if (supervisor.delegated && err.code !== 'authorization_required') {
      // The upstream may have refused the user's token (it is then dropped): if the user must
      // authorize again, that is the answer, not the upstream's refusal.
      const again = await supervisor.get().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (again instanceof GatewayError && again.code === 'authorization_required') err = again;
    }
    if (err.code === 'authorization_required') return u.authorizationNeeded(request, err);
    return fail(request.id, err);
  }
}

/** What a thrown error says about a failed upstream call, for its span. */
function failure(thrown: unknown): { code: string; message: string } {
  return thrown instanceof GatewayError
    ? { code: thrown.code, message: thrown.message }
    : { code: 'internal', message: String(thrown) };
}

export function ok(id: Id, value: Record<string, unknown>): Response {
  return { jsonrpc: '2.0', id, result: value };
}

export function fail(id: Id | null, err: GatewayError): Response {
  const error: Response['error'] = { code: err.rpc, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return { jsonrpc: '2.0', id, error };
}

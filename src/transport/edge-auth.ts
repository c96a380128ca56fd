// Authentication at the HTTP edge, and the metadata that tells an MCP client how to get a
// token (RFC 9728 Protected Resource Metadata, served for every endpoint). A request that does
// not authenticate is answered here — 401 with a `WWW-Authenticate` challenge, 403 for a
// missing scope or a virtual server the caller may not use, 429 when throttled — and goes no
// further.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthOutcome, challenge, NO_CREDENTIALS } from '../identity/authenticate.ts';
import { anonymousPrincipal, type Principal } from '../identity/principal.ts';
import type { GatewayContext } from './context.ts';
import { requestFacts } from './facts.ts';
import { sendJson } from './reply.ts';

const METADATA_PREFIX = '/.well-known/oauth-protected-resource';
const ENDPOINT = /^\/(?:(?:mcp|sse)(?:\/([A-Za-z0-9_-]{1,32}))?|message)$/;
/** Where `admit` leaves the principal on the request (a symbol: cheaper than a WeakMap per request). */
const PRINCIPAL = Symbol('gatehouse.principal');
type Admitted = IncomingMessage & { [PRINCIPAL]?: Principal };

/** The authenticated caller of a request that passed `admit`. */
export function principalOf(req: IncomingMessage): Principal {
  const principal = (req as Admitted)[PRINCIPAL];
  if (!principal) throw new Error('principalOf() called on a request that was not admitted');
  return principal;
}

/** The principal of a request, if it was admitted (for records of requests refused later). */
export function admitted(req: IncomingMessage): Principal | undefined {
  return (req as Admitted)[PRINCIPAL];
}

/** The gateway's public origin: configured, else the (already validated) Host the client used. */
function origin(ctx: GatewayContext, req: IncomingMessage): string {
  const configured = ctx.config.auth.resource;
  return configured ? new URL(configured).origin : `http://${req.headers.host ?? '127.0.0.1'}`;
}

/** The canonical resource URL of an endpoint, e.g. `https://gw.example/mcp/ops`. */
export function resourceUrl(ctx: GatewayContext, req: IncomingMessage, endpoint: string): string {
  return `${origin(ctx, req)}${endpoint}`;
}

/** Serves Protected Resource Metadata; false when the path is not a metadata path. */
export function serveResourceMetadata(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) {
  if (path !== METADATA_PREFIX && !path.startsWith(`${METADATA_PREFIX}/`)) return false;
  const endpoint = path.slice(METADATA_PREFIX.length) || '/mcp';
  // Metadata only for endpoints that exist: /mcp, /sse, and their configured virtual servers.
  const known = ENDPOINT.exec(endpoint);
  if (!known || (known[1] !== undefined && !(known[1] in ctx.config.virtualServers))) {
    sendJson(res, 404, JSON.stringify({ error: 'not_found' }));
    return true;
  }
  const auth = ctx.config.auth;
  const metadata = {
    resource: resourceUrl(ctx, req, endpoint),
    authorization_servers: auth.jwt.map((i) => i.issuer),
    bearer_methods_supported: ['header'],
    ...(auth.requiredScopes.length > 0 ? { scopes_supported: auth.requiredScopes } : {}),
    resource_name: 'Gatehouse MCP gateway',
  };
  sendJson(res, 200, JSON.stringify(metadata), { 'cache-control': 'max-age=300' });
  return true;
}

/**
 * Authenticates a request to `endpoint` (`/mcp`, `/mcp/<virtual>`, `/sse`, ...). Gives the
 * principal, or undefined after answering the request itself; without a promise when the
 * answer is known at once (anonymous access, a credential verified moments ago).
 */
export function admit(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: string,
  virtualServer: string | undefined,
): Principal | undefined | Promise<Principal | undefined> {
  // No credentials: served as anonymous where this endpoint allows it (its own setting, else
  // the global one), refused with a challenge otherwise — no authenticator needed either way.
  if (req.headers.authorization === undefined) {
    const own = virtualServer === undefined ? undefined : ctx.config.virtualServers[virtualServer]?.anonymous;
    if (own ?? ctx.config.auth.anonymous) {
      (req as Admitted)[PRINCIPAL] = anonymousPrincipal();
      return anonymousPrincipal();
    }
    return settle(ctx, req, res, endpoint, virtualServer, NO_CREDENTIALS);
  }
  const outcome = ctx.authenticate(req);
  return outcome instanceof Promise
    ? outcome.then((o) => settle(ctx, req, res, endpoint, virtualServer, o))
    : settle(ctx, req, res, endpoint, virtualServer, outcome);
}

/** Acts on an authentication outcome: the principal, or undefined once the refusal is sent. */
function settle(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: string,
  virtualServer: string | undefined,
  outcome: AuthOutcome,
): Principal | undefined {
  if (outcome.ok && !meantForEndpoint(ctx, req, endpoint, outcome.principal)) {
    outcome = { ok: false, status: 401, error: 'invalid_token', description: 'token for another endpoint' };
  }
  if (!outcome.ok) {
    const metadataUrl = `${origin(ctx, req)}${METADATA_PREFIX}${endpoint}`;
    const headers: Record<string, string> = {};
    if (outcome.status === 401 || outcome.status === 403) {
      headers['www-authenticate'] = challenge(outcome, metadataUrl, ctx.config.auth.requiredScopes);
    }
    if (outcome.retryAfterMs !== undefined)
      headers['retry-after'] = String(Math.ceil(outcome.retryAfterMs / 1000));
    ctx.log(`refused ${req.method} ${endpoint} from ${req.socket.remoteAddress}: ${outcome.description}`);
    ctx.observer.record({
      started: performance.now(),
      startedAt: Date.now(),
      method: 'auth',
      facts: requestFacts(req),
      virtualServer,
      refusal: { code: outcome.error, reason: outcome.description, outcome: 'denied' },
    });
    const body = {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32001, message: `Unauthorized: ${outcome.error}` },
    };
    sendJson(res, outcome.status, JSON.stringify(body), headers);
    return undefined;
  }
  const principal = outcome.principal;
  const allowed = principal.virtualServers;
  if (allowed && !allowed.includes(virtualServer ?? '/')) {
    ctx.observer.record({
      started: performance.now(),
      startedAt: Date.now(),
      method: 'auth',
      principal,
      facts: requestFacts(req),
      virtualServer,
      refusal: { code: 'forbidden_endpoint', reason: 'not allowed on this endpoint', outcome: 'denied' },
    });
    const body = {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32001, message: 'Forbidden: not allowed on this endpoint' },
    };
    sendJson(res, 403, JSON.stringify(body));
    return undefined;
  }
  (req as Admitted)[PRINCIPAL] = principal;
  return principal;
}

/**
 * Whether a JWT names this endpoint. The verifier has checked that it is for this gateway: one of
 * the issuer's configured audiences, or — where the audience defaults to `auth.resource` — the
 * resource URL of one of its endpoints, as an MCP client asks for the URL it connects to (its
 * protected-resource metadata names it). Such a token is good at that endpoint only; a legacy
 * client posts to `/message` with the token it opened its `/sse[/<name>]` stream with.
 */
function meantForEndpoint(ctx: GatewayContext, req: IncomingMessage, endpoint: string, p: Principal) {
  if (p.kind !== 'jwt') return true;
  const auth = ctx.config.auth;
  const audience = auth.jwt.find((i) => i.issuer === p.claims?.iss)?.audience ?? [auth.resource];
  const own = resourceUrl(ctx, req, endpoint);
  const stream = endpoint === '/message' ? resourceUrl(ctx, req, '/sse') : undefined;
  const aud = p.claims?.aud;
  const named: unknown[] = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return named.some(
    (a) =>
      typeof a === 'string' &&
      (audience.includes(a) ||
        a === own ||
        (stream !== undefined && (a === stream || a.startsWith(`${stream}/`)))),
  );
}

/** A stable name for "the same caller", to bind sessions to whoever opened them. */
export function principalKey(p: Principal): string {
  if (p.kind === 'api-key') return `key:${p.keyId}`;
  if (p.kind === 'jwt') return `jwt:${String(p.claims?.iss)}:${p.user ?? ''}:${p.agent ?? ''}`;
  return 'anonymous';
}

// Authentication at the edge: every HTTP request to an MCP endpoint presents a credential (an
// API key or a bearer JWT in `Authorization`, never in the URL) or, where the config allows it,
// none. The outcome is a Principal, or the status and `WWW-Authenticate` challenge to answer with.
import type { IncomingMessage } from 'node:http';
import type { AuthConfig } from '../config/auth-schema.ts';
import type { JwtVerifier } from './jwt.ts';
import { type Principal, rememberToken } from './principal.ts';
import { throttleKey } from './throttle.ts';

/** What authentication needs from the API-key store. */
export interface KeyVerifier {
  verify(presented: unknown): { ok: true; principal: Principal } | { ok: false; reason: string };
}

/** What authentication needs from the failed-attempt throttle. */
export interface AttemptThrottle {
  check(source: string): { allowed: boolean; retryAfterMs?: number };
  fail(source: string): void;
  succeed(source: string): void;
}

export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403 | 429 | 503; error: string; description: string; retryAfterMs?: number };

/** The answer to a request that brought no credentials where they are required. */
export const NO_CREDENTIALS: AuthOutcome = {
  ok: false,
  status: 401,
  error: 'invalid_request',
  description: 'authentication required',
};

export interface AuthDeps {
  keys?: KeyVerifier;
  jwt?: JwtVerifier;
  throttle: AttemptThrottle;
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/;
const API_KEY_PREFIX = 'gh_';
/**
 * A credential verified within this long is not verified again: checking a key (hash, key-file
 * stat) or a JWT (signature) on every request costs more than routing the call. So a revoked
 * key or an expired token stops working within this time.
 */
const REMEMBER_MS = 1000;
const REMEMBER_MAX = 1000;

export function createAuthenticator(config: AuthConfig, deps: AuthDeps) {
  // The outcome a recently verified credential gets again, until `until` (ms since the epoch).
  const remembered = new Map<string, { outcome: AuthOutcome; until: number }>();
  const recall = (header: string) => {
    const hit = remembered.get(header);
    if (hit && hit.until > Date.now()) return hit.outcome;
    if (hit) remembered.delete(header);
    return undefined;
  };
  const remember = (header: string, principal: Principal, outcome: AuthOutcome) => {
    if (remembered.size >= REMEMBER_MAX) remembered.delete(remembered.keys().next().value!);
    const expires =
      typeof principal.claims?.exp === 'number' ? principal.claims.exp * 1000 : Number.POSITIVE_INFINITY;
    remembered.set(header, { outcome, until: Math.min(Date.now() + REMEMBER_MS, expires) });
  };

  /**
   * Checks the credential a request presents. Whether a request without one may pass is the
   * endpoint's decision (anonymous access is set per virtual server), made in edge-auth.ts.
   * A credential verified within the last second is answered without a promise: that is the
   * path nearly every request of a busy agent takes.
   */
  return function authenticate(req: IncomingMessage): AuthOutcome | Promise<AuthOutcome> {
    const header = req.headers.authorization;
    if (header === undefined) return NO_CREDENTIALS;
    const source = sourceOf(req);
    const gate = deps.throttle.check(source);
    if (!gate.allowed) {
      return {
        ok: false,
        status: 429,
        error: 'slow_down',
        description: 'too many failed attempts',
        retryAfterMs: gate.retryAfterMs,
      };
    }
    return recall(header) ?? check(header, source);
  };

  async function check(header: string, source: string): Promise<AuthOutcome> {
    const token = BEARER.exec(header)?.[1];
    let outcome: Awaited<ReturnType<typeof verify>> | undefined;
    try {
      outcome = token === undefined ? undefined : await verify(token);
    } catch (err) {
      // The key store cannot be read: refuse everyone rather than trust a stale copy, in which
      // a revoked key might still be valid.
      return {
        ok: false,
        status: 503,
        error: 'temporarily_unavailable',
        description: `credentials cannot be checked: ${String(err)}`,
      };
    }
    if (!outcome?.ok) {
      deps.throttle.fail(source);
      return {
        ok: false,
        status: 401,
        error: 'invalid_token',
        description: outcome?.reason ?? 'malformed Authorization header',
      };
    }
    deps.throttle.succeed(source);
    const permitted = permit(outcome.principal, outcome.scopes);
    remember(header, outcome.principal, permitted);
    return permitted;
  }

  function permit(principal: Principal, scopes: string[]): AuthOutcome {
    const missing = config.requiredScopes.filter((s) => !scopes.includes(s));
    if (principal.kind === 'jwt' && missing.length > 0) {
      return {
        ok: false,
        status: 403,
        error: 'insufficient_scope',
        description: `missing scope ${missing.join(' ')}`,
      };
    }
    return { ok: true, principal };
  }

  async function verify(
    token: string,
  ): Promise<{ ok: true; principal: Principal; scopes: string[] } | { ok: false; reason: string }> {
    if (token.startsWith(API_KEY_PREFIX)) {
      if (!deps.keys) return { ok: false, reason: 'API keys are not enabled' };
      const result = deps.keys.verify(token);
      return result.ok
        ? { ok: true, principal: result.principal, scopes: [] }
        : { ok: false, reason: `API key ${result.reason}` };
    }
    if (!deps.jwt) return { ok: false, reason: 'bearer tokens are not enabled' };
    const result = await deps.jwt.verify(token);
    if (result.ok) rememberToken(result.principal, token);
    return result.ok ? result : { ok: false, reason: `token ${result.reason.replace(/_/g, ' ')}` };
  }
}

/** The throttle's source key of the connection a request came on (computed once per socket). */
const SOURCE = Symbol('gatehouse.throttle-source');
function sourceOf(req: IncomingMessage): string {
  const socket = req.socket as IncomingMessage['socket'] & { [SOURCE]?: string };
  socket[SOURCE] ??= throttleKey(socket.remoteAddress ?? 'unknown');
  return socket[SOURCE];
}

/** The challenge that tells a client where to learn how to authenticate (RFC 9728 §5.1). */
export function challenge(
  outcome: Extract<AuthOutcome, { ok: false }>,
  metadataUrl: string,
  scopes: string[],
): string {
  const parts = [`resource_metadata="${metadataUrl}"`];
  if (outcome.error !== 'invalid_request') parts.push(`error="${outcome.error}"`);
  if (scopes.length > 0) parts.push(`scope="${scopes.join(' ')}"`);
  return `Bearer ${parts.join(', ')}`;
}

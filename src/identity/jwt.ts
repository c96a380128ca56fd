// Bearer JWTs from OpenID providers: the issuer is found from the token's `iss` (it must be one
// configured), its keys from discovery + JWKS (cached; an unknown `kid` refetches, so key
// rotation needs no restart), then signature, issuer, audience, exp and nbf are checked with a
// configured clock skew, and the claims are mapped to an identity.
import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Principal } from './principal.ts';

/** Asymmetric algorithms only: `none` and HMAC (a public key misused as a secret) never verify. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface IssuerConfig {
  issuer: string;
  /** The audiences a token must name at least one of: the gateway's own resource URL(s). */
  audience: string[];
  /**
   * The gateway's resource URL when the audience is left to default to it: a token may then
   * name, instead, any URL on its origin — an endpoint's own resource URL (`…/mcp/<virtual>`),
   * which is what MCP clients ask for (RFC 8707). That the token is used at *that* endpoint is
   * checked at the edge (edge-auth.ts), which knows the endpoint.
   */
  endpointsOf?: string;
  /** Skips discovery when given. */
  jwksUri?: string;
  clockSkewSeconds: number;
  /** Which claim holds what; roles, groups and teams may be a string or a list. */
  claims: { user: string; agent: string; roles: string; groups: string; teams: string };
}

export type JwtResult =
  | { ok: true; principal: Principal; scopes: string[] }
  | { ok: false; reason: JwtFailure };

export type JwtFailure =
  | 'malformed'
  | 'unknown_issuer'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'bad_signature'
  | 'unknown_key'
  | 'issuer_unreachable';

export interface JwtVerifier {
  verify(token: string, now?: Date): Promise<JwtResult>;
}

export function createJwtVerifier(issuers: readonly IssuerConfig[]): JwtVerifier {
  const keySets = new Map<string, Promise<ReturnType<typeof createRemoteJWKSet>>>();
  const keysFor = (config: IssuerConfig) => {
    let keys = keySets.get(config.issuer);
    if (!keys) {
      keys = discover(config).then((uri) => createRemoteJWKSet(new URL(uri), { cooldownDuration: 30_000 }));
      // A failed discovery is retried on the next token, not remembered.
      keys.catch(() => keySets.delete(config.issuer));
      keySets.set(config.issuer, keys);
    }
    return keys;
  };

  return {
    async verify(token, now) {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      const config = issuers.find((i) => i.issuer === unverified.iss);
      if (!config) return { ok: false, reason: 'unknown_issuer' };
      let keys: Awaited<ReturnType<typeof keysFor>>;
      try {
        keys = await keysFor(config);
      } catch {
        return { ok: false, reason: 'issuer_unreachable' };
      }
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: config.endpointsOf === undefined ? config.audience : undefined,
          requiredClaims: ['aud'],
          clockTolerance: config.clockSkewSeconds,
          algorithms: ALGORITHMS,
          currentDate: now,
        });
        if (config.endpointsOf !== undefined && !forThisGateway(payload.aud, config, config.endpointsOf)) {
          return { ok: false, reason: 'wrong_audience' };
        }
        return { ok: true, principal: toPrincipal(payload, config), scopes: scopesOf(payload) };
      } catch (err) {
        return { ok: false, reason: failure(err) };
      }
    },
  };
}

async function discover(config: IssuerConfig): Promise<string> {
  if (config.jwksUri) return config.jwksUri;
  const res = await fetch(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(5000),
  });
  const document = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // The document must describe the issuer it was fetched for (mix-up defence).
  if (!res.ok || document.issuer !== config.issuer || typeof document.jwks_uri !== 'string') {
    throw new Error(`discovery for ${config.issuer} failed`);
  }
  return document.jwks_uri;
}

/** Whether a token names the gateway: one of its audiences, or a URL on the gateway's origin. */
function forThisGateway(aud: JWTPayload['aud'], config: IssuerConfig, gateway: string): boolean {
  const origin = new URL(gateway).origin;
  const named = typeof aud === 'string' ? [aud] : (aud ?? []);
  return named.some((a) => config.audience.includes(a) || URL.parse(a)?.origin === origin);
}

function failure(err: unknown): JwtFailure {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'not_yet_valid';
    return 'malformed';
  }
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return 'issuer_unreachable';
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JWSSignatureVerificationFailed) {
    return 'bad_signature';
  }
  return 'malformed';
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toPrincipal(payload: JWTPayload, config: IssuerConfig): Principal {
  const claim = (name: string) => (payload as Record<string, unknown>)[name];
  const user = claim(config.claims.user);
  const agent = claim(config.claims.agent);
  return {
    kind: 'jwt',
    user: typeof user === 'string' ? user : undefined,
    agent: typeof agent === 'string' ? agent : undefined,
    roles: list(claim(config.claims.roles)),
    groups: list(claim(config.claims.groups)),
    teams: list(claim(config.claims.teams)),
    claims: payload as Record<string, unknown>,
  };
}

function scopesOf(payload: JWTPayload): string[] {
  return list((payload as Record<string, unknown>).scope);
}

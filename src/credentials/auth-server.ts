// Talking to an OAuth authorization server on the gateway's own behalf: finding its endpoints
// (RFC 8414 metadata, else OpenID discovery) and posting to its token endpoint (code exchange,
// refresh, RFC 8693 token exchange). Failures come back as values with the server's error code,
// never with a token or secret in them.
import { createHash, randomBytes } from 'node:crypto';

export interface AuthServer {
  issuer: string;
  authorizationEndpoint?: string;
  tokenEndpoint: string;
}

/** How the gateway identifies itself to the authorization server. */
export interface OAuthClient {
  clientId: string;
  /** Sent with HTTP Basic (client_secret_basic); absent for a public client. */
  clientSecret?: string;
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms; undefined when the server did not say. */
  expiresAt?: number;
  /** Epoch ms after which the token is renewed rather than used: a margin before `expiresAt`. */
  renewAt?: number;
  scope?: string;
}

export type TokenResult = { ok: true; tokens: TokenSet } | { ok: false; reason: string };

const TIMEOUT_MS = 10_000;
const discovered = new Map<string, Promise<AuthServer>>();

/** The server's endpoints, cached per issuer; a failed discovery is retried next time. */
export function discoverAuthServer(issuer: string): Promise<AuthServer> {
  let found = discovered.get(issuer);
  if (!found) {
    found = discover(issuer);
    found.catch(() => discovered.delete(issuer));
    discovered.set(issuer, found);
  }
  return found;
}

async function discover(issuer: string): Promise<AuthServer> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
  for (const candidate of candidates) {
    let res: Response;
    try {
      res = await fetch(candidate, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch {
      continue;
    }
    if (!res.ok) continue;
    const doc = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    // The document must describe the issuer it was fetched for (mix-up defence).
    if (doc.issuer !== issuer || typeof doc.token_endpoint !== 'string') continue;
    return {
      issuer,
      tokenEndpoint: doc.token_endpoint,
      authorizationEndpoint:
        typeof doc.authorization_endpoint === 'string' ? doc.authorization_endpoint : undefined,
    };
  }
  throw new Error(`no authorization server metadata for ${issuer}`);
}

/** One POST to the token endpoint. */
export async function requestToken(
  server: AuthServer,
  client: OAuthClient,
  form: Record<string, string | undefined>,
): Promise<TokenResult> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.append(k, v);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (client.clientSecret === undefined) body.set('client_id', client.clientId);
  else {
    const basic = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  let res: Response;
  try {
    res = await fetch(server.tokenEndpoint, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, reason: `token endpoint unreachable (${(err as Error).name})` };
  }
  const doc = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof doc.access_token !== 'string') {
    // Only the server's error code goes on: its description may echo what we sent.
    const code = typeof doc.error === 'string' ? doc.error.slice(0, 64) : `HTTP ${res.status}`;
    return { ok: false, reason: `token endpoint refused: ${code}` };
  }
  const lifetimeMs = typeof doc.expires_in === 'number' ? doc.expires_in * 1000 : undefined;
  const now = Date.now();
  return {
    ok: true,
    tokens: {
      accessToken: doc.access_token,
      refreshToken: typeof doc.refresh_token === 'string' ? doc.refresh_token : undefined,
      expiresAt: lifetimeMs === undefined ? undefined : now + lifetimeMs,
      // Renewed 30 s before expiry, or at three quarters of a short life: never used at its edge.
      renewAt: lifetimeMs === undefined ? undefined : now + Math.max(lifetimeMs - 30_000, lifetimeMs * 0.75),
      scope: typeof doc.scope === 'string' ? doc.scope : undefined,
    },
  };
}

/** A PKCE pair (RFC 7636, S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Whether a token is due for renewal (its renewal time has come). */
export function expired(tokens: TokenSet): boolean {
  return tokens.renewAt !== undefined && tokens.renewAt <= Date.now();
}

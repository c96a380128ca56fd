// RFC 8693 token exchange: the caller's own token (issued for the gateway) is traded at the IdP
// for a new one issued for the upstream. The upstream sees the user, never the token the client
// sent us. Exchanged tokens are cached per (upstream, subject token) until shortly before expiry.
import { createHash } from 'node:crypto';
import {
  discoverAuthServer,
  expired,
  type OAuthClient,
  requestToken,
  type TokenResult,
} from './auth-server.ts';

export interface ExchangeSettings extends OAuthClient {
  issuer: string;
  /** RFC 8707 resource for the new token: the upstream's URL. */
  resource: string;
  audience?: string;
  scopes: readonly string[];
}

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const MAX_CACHED = 10_000;

export class TokenExchanger {
  #cache = new Map<string, Promise<TokenResult>>();

  token(upstream: string, settings: ExchangeSettings, subjectToken: string): Promise<TokenResult> {
    // Keyed by a digest: the cache never holds the client's token itself.
    const key = `${upstream}\n${createHash('sha256').update(subjectToken).digest('base64url')}`;
    const cached = this.#cache.get(key);
    if (cached) {
      return cached.then((result) =>
        result.ok && !expired(result.tokens) ? result : this.#fetch(key, settings, subjectToken),
      );
    }
    return this.#fetch(key, settings, subjectToken);
  }

  #fetch(key: string, settings: ExchangeSettings, subjectToken: string): Promise<TokenResult> {
    const result = discoverAuthServer(settings.issuer).then(
      (server) =>
        requestToken(server, settings, {
          grant_type: GRANT,
          subject_token: subjectToken,
          subject_token_type: ACCESS_TOKEN,
          requested_token_type: ACCESS_TOKEN,
          resource: settings.resource,
          audience: settings.audience,
          scope: settings.scopes.length > 0 ? settings.scopes.join(' ') : undefined,
        }),
      (err: unknown): TokenResult => ({ ok: false, reason: (err as Error).message }),
    );
    this.#cache.delete(key);
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, result);
    // Failures are not remembered: the next call asks again.
    void result.then((r) => {
      if (!r.ok && this.#cache.get(key) === result) this.#cache.delete(key);
    });
    return result;
  }
}

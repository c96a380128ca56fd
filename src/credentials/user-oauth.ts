// Per-user upstream OAuth: the gateway runs the authorization-code + PKCE flow with an upstream's
// authorization server on a user's behalf, keeps the user's tokens in the vault, refreshes them,
// and hands out the access token for calls that user makes. A flow is identified by a random,
// single-use `state` that expires; it remembers who asked, so the tokens land with that user only.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AuthServer,
  discoverAuthServer,
  expired,
  type OAuthClient,
  pkce,
  requestToken,
  type TokenSet,
} from './auth-server.ts';
import type { TokenVault } from './vault.ts';

export interface UserOAuthSettings extends OAuthClient {
  issuer: string;
  scopes: readonly string[];
  /** RFC 8707 resource the tokens are for: the upstream's URL. */
  resource: string;
}

/** What a client is given to send its user to: the gateway's consent page for one flow. */
export interface AuthorizationLink {
  url: string;
  /** Names the flow in URL-mode elicitation (`notifications/elicitation/complete`). */
  elicitationId: string;
}

/** A flow waiting for the user. `nonce` ties its callback to the browser that confirmed it. */
export interface PendingFlow {
  upstream: string;
  subject: string;
  settings: UserOAuthSettings;
  verifier: string;
  challenge: string;
  elicitationId: string;
  nonce: string;
  expires: number;
  link: string;
}

const FLOW_TTL_MS = 10 * 60_000;
const MAX_PENDING = 10_000;

type Listener = (upstream: string, subject: string, elicitationId: string) => void;

export class UserAuthorizations {
  #vault: TokenVault;
  #base: string;
  #log: (line: string) => void;
  #pending = new Map<string, PendingFlow>();
  #refreshing = new Map<string, Promise<TokenSet | undefined>>();
  #listeners = new Set<Listener>();

  /** `base` is the gateway's public origin; its `/oauth/...` pages serve the flows. */
  constructor(vault: TokenVault, base: string, log: (line: string) => void) {
    this.#vault = vault;
    this.#base = base;
    this.#log = log;
  }

  get callbackUrl(): string {
    return `${this.#base}/oauth/callback`;
  }

  /** The user's token for an upstream, refreshed when needed; undefined if they must authorize. */
  async token(upstream: string, settings: UserOAuthSettings, subject: string): Promise<TokenSet | undefined> {
    const key = vaultKey(upstream, subject);
    const tokens = this.#vault.get(key);
    if (!tokens || !expired(tokens)) return tokens;
    if (!tokens.refreshToken) return undefined;
    let refreshing = this.#refreshing.get(key);
    if (!refreshing) {
      refreshing = this.#refresh(key, upstream, settings, tokens.refreshToken).finally(() =>
        this.#refreshing.delete(key),
      );
      this.#refreshing.set(key, refreshing);
    }
    return refreshing;
  }

  async #refresh(key: string, upstream: string, settings: UserOAuthSettings, refreshToken: string) {
    const result = await requestToken(await discoverAuthServer(settings.issuer), settings, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      resource: settings.resource,
    });
    if (!result.ok) {
      this.#log(
        `[${upstream}] refreshing a user's token failed (${result.reason}); they must authorize again`,
      );
      await this.#vault.delete(key);
      return undefined;
    }
    // A server that does not rotate refresh tokens keeps the old one valid.
    const tokens = { ...result.tokens, refreshToken: result.tokens.refreshToken ?? refreshToken };
    await this.#vault.put(key, tokens);
    return tokens;
  }

  /** A link for the user to authorize an upstream; the same one while a flow is pending. */
  link(upstream: string, settings: UserOAuthSettings, subject: string): AuthorizationLink {
    const now = Date.now();
    for (const flow of this.#pending.values()) {
      if (flow.upstream === upstream && flow.subject === subject && flow.expires - now > 60_000) {
        return { url: flow.link, elicitationId: flow.elicitationId };
      }
    }
    this.#sweep(now);
    const state = randomBytes(24).toString('base64url');
    const { verifier, challenge } = pkce();
    const flow: PendingFlow = {
      upstream,
      subject,
      settings,
      verifier,
      challenge,
      elicitationId: randomUUID(),
      nonce: randomBytes(24).toString('base64url'),
      expires: now + FLOW_TTL_MS,
      link: `${this.#base}/oauth/authorize?state=${state}`,
    };
    this.#pending.set(state, flow);
    return { url: flow.link, elicitationId: flow.elicitationId };
  }

  /** The flow a consent page or callback names, if it is still pending. */
  pending(state: string): PendingFlow | undefined {
    const flow = this.#pending.get(state);
    return flow && flow.expires > Date.now() ? flow : undefined;
  }

  /** Where the consent page sends the browser: the upstream's authorization endpoint. */
  async authorizationUrl(state: string, flow: PendingFlow): Promise<string | undefined> {
    let server: AuthServer;
    try {
      server = await discoverAuthServer(flow.settings.issuer);
    } catch (err) {
      this.#log(`[${flow.upstream}] ${(err as Error).message}`);
      return undefined;
    }
    if (!server.authorizationEndpoint) return undefined;
    const url = new URL(server.authorizationEndpoint);
    const q = url.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', flow.settings.clientId);
    q.set('redirect_uri', this.callbackUrl);
    q.set('state', state);
    q.set('code_challenge', flow.challenge);
    q.set('code_challenge_method', 'S256');
    q.set('resource', flow.settings.resource);
    if (flow.settings.scopes.length > 0) q.set('scope', flow.settings.scopes.join(' '));
    // OpenID Connect grants offline access (a refresh token) only with explicit consent.
    if (flow.settings.scopes.includes('offline_access')) q.set('prompt', 'consent');
    return url.href;
  }

  /** Finishes a flow from the authorization server's redirect; single use. */
  async complete(
    state: string,
    query: URLSearchParams,
  ): Promise<{ ok: true; upstream: string } | { ok: false; reason: string }> {
    const flow = this.pending(state);
    this.#pending.delete(state);
    if (!flow) return { ok: false, reason: 'unknown or expired authorization; start again from your agent' };
    const error = query.get('error');
    if (error) return { ok: false, reason: `the authorization server said: ${error.slice(0, 64)}` };
    const code = query.get('code');
    if (!code) return { ok: false, reason: 'the authorization server sent no code' };
    const server = await discoverAuthServer(flow.settings.issuer);
    // RFC 9207: a response naming another issuer is a mix-up attack.
    const iss = query.get('iss');
    if (iss !== null && iss !== server.issuer) return { ok: false, reason: 'issuer mismatch' };
    const result = await requestToken(server, flow.settings, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.callbackUrl,
      code_verifier: flow.verifier,
      resource: flow.settings.resource,
    });
    if (!result.ok) return { ok: false, reason: result.reason };
    await this.#vault.put(vaultKey(flow.upstream, flow.subject), result.tokens);
    this.#log(`[${flow.upstream}] authorized for ${flow.subject}`);
    for (const listener of this.#listeners) listener(flow.upstream, flow.subject, flow.elicitationId);
    return { ok: true, upstream: flow.upstream };
  }

  /** Forgets a user's tokens for an upstream that refused this access token (unless already replaced). */
  forget(upstream: string, subject: string, refused: string): Promise<void> {
    const key = vaultKey(upstream, subject);
    if (this.#vault.get(key)?.accessToken !== refused) return Promise.resolve();
    this.#log(`[${upstream}] the upstream refused ${subject}'s token; they must authorize again`);
    return this.#vault.delete(key);
  }

  /** Called when a user finishes authorizing an upstream; returns the unsubscribe function. */
  onAuthorized(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #sweep(now: number): void {
    for (const [state, flow] of this.#pending) if (flow.expires <= now) this.#pending.delete(state);
    // Bounded even under a flood of flows nobody finishes: the oldest go first.
    while (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
  }
}

function vaultKey(upstream: string, subject: string): string {
  return JSON.stringify([upstream, subject]);
}

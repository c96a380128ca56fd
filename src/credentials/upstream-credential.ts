// The Authorization header an upstream is called with when it acts for the calling user
// (`onBehalfOf`): found before a connection is made, kept fresh while it is used. The client's
// own token is never this header: it is either the user's token from the vault (oauth) or a new
// token the IdP issued for the upstream (token exchange).
import type { OnBehalfOf } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { type Principal, presentedToken } from '../identity/principal.ts';
import type { UpstreamLists } from '../route/catalog.ts';
import { expired, type TokenSet } from './auth-server.ts';
import type { TokenExchanger } from './token-exchange.ts';
import type { UserAuthorizations } from './user-oauth.ts';

/** What an upstream connection asks before it connects, and on every request it sends. */
export interface Credential {
  /**
   * Resolves once a usable token is at hand (renewing one that is due), before connecting and
   * before every call; rejects with `authorization_required` when the user must act first.
   */
  ready(): Promise<void>;
  /** The header value for the next request (the token `ready` last made sure of). */
  header(): string | undefined;
  /** The upstream refused the token: it is dropped (a user's, from the vault too), so the next call asks anew. */
  rejected(): void;
}

export interface CredentialSources {
  users?: UserAuthorizations;
  exchanger: TokenExchanger;
  /** What each upstream acting for the user last listed for anyone (see Lists). */
  lists: Map<string, UpstreamLists>;
}

/** The user an upstream token belongs to: the same person whichever agent they use. */
export function subjectOf(p: Principal): string | undefined {
  if (p.kind === 'jwt' && p.user) return `user:${String(p.claims?.iss)}:${p.user}`;
  if (p.kind === 'api-key' && p.keyId) return `key:${p.keyId}`;
  return undefined;
}

export function userCredential(
  sources: CredentialSources,
  upstream: string,
  url: string,
  settings: OnBehalfOf,
  principal: () => Principal,
): Credential {
  const resource = settings.resource ?? url;
  let tokens: TokenSet | undefined;

  const fetchToken = async (): Promise<TokenSet> => {
    const caller = principal();
    if (settings.method === 'token-exchange') {
      const subjectToken = presentedToken(caller);
      if (!subjectToken) {
        throw new GatewayError(
          'authorization_required',
          `Upstream "${upstream}" acts for the signed-in user; call with a token from the identity provider`,
        );
      }
      const result = await sources.exchanger.token(upstream, { ...settings, resource }, subjectToken);
      if (!result.ok) {
        throw new GatewayError('upstream_unavailable', `upstream "${upstream}" is unavailable`, {
          cause: new Error(`token exchange failed: ${result.reason}`),
        });
      }
      return result.tokens;
    }
    const subject = subjectOf(caller);
    const users = sources.users;
    if (!subject || !users) {
      throw new GatewayError(
        'authorization_required',
        `Upstream "${upstream}" acts for a known user or API key; this caller has neither`,
      );
    }
    const found = await users.token(upstream, { ...settings, resource }, subject);
    if (found) return found;
    const link = users.link(upstream, { ...settings, resource }, subject);
    throw new GatewayError(
      'authorization_required',
      `Authorization needed: open ${link.url} to let Gatehouse use "${upstream}" for you, then try again`,
      { data: { upstream, url: link.url, elicitationId: link.elicitationId } },
    );
  };

  let fetching: Promise<void> | undefined;
  return {
    ready() {
      if (tokens && !expired(tokens)) return Promise.resolve();
      // One renewal at a time, however many calls are waiting for it.
      fetching ??= fetchToken()
        .then((next) => {
          tokens = next;
        })
        .finally(() => {
          fetching = undefined;
        });
      return fetching;
    },
    header: () => (tokens ? `Bearer ${tokens.accessToken}` : undefined),
    rejected() {
      if (!tokens) return;
      const refused = tokens.accessToken;
      tokens = undefined;
      const subject = subjectOf(principal());
      if (settings.method === 'oauth' && subject) void sources.users?.forget(upstream, subject, refused);
    },
  };
}

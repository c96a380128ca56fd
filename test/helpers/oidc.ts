// A real OpenID provider (oidc-provider from npm) on a loopback port, for tests that need an
// identity provider: discovery, JWKS, and JWT access tokens for a resource (RFC 8707), through
// the client-credentials grant (`token()`, for agents) and through the authorization-code grant
// with PKCE, refresh tokens, dynamic registration and Client ID Metadata Documents (for MCP
// clients that sign a user in; test/helpers/oidc-login.ts completes the provider's built-in
// login and consent pages).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata } from 'oidc-provider';

export interface TestIssuer {
  /** The issuer URL (discovery at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  /** The running provider, e.g. to listen to its events (`grant.success`, `registration.success`). */
  provider: Provider;
  /** A JWT access token for `resource` from the client-credentials grant of one of `CLIENTS`. */
  token(options: { resource: string; scope?: string; clientId?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface IssuerOptions {
  /**
   * Clients registered up front, besides the client-credentials agents in `CLIENTS`: e.g. a
   * public client (`token_endpoint_auth_method: 'none'`) or a confidential one with a
   * `client_secret`, with `grant_types: ['authorization_code', 'refresh_token']` and its
   * `redirect_uris`.
   */
  clients?: ClientMetadata[];
  /** The scopes every resource accepts; a client gets those it asks for (default `mcp:tools mcp:admin`). */
  scope?: string;
  /** Lifetime of access tokens, in seconds (default 300). */
  accessTokenTTL?: number;
  /** Open dynamic client registration (RFC 7591) at `/reg` (default on). */
  registration?: boolean;
  /** Extra access-token claims for a signed-in user (by the login name used), e.g. `{ roles: [...] }`. */
  userClaims?: Record<string, Record<string, unknown>>;
  /**
   * Turns on Client ID Metadata Documents: a `client_id` that is an HTTPS URL names the client,
   * whose metadata the provider fetches from it with this function (its own fetch refuses
   * loopback addresses, and a test's HTTPS server has a self-signed certificate).
   */
  clientMetadataFetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
}

export const CLIENTS = [
  { client_id: 'agent-one', client_secret: 'agent-one-secret', roles: ['ops'] },
  { client_id: 'agent-two', client_secret: 'agent-two-secret', roles: ['intern'] },
];

export async function startIssuer(options: IssuerOptions = {}): Promise<TestIssuer> {
  const { scope = 'mcp:tools mcp:admin', accessTokenTTL = 300, registration = true } = options;
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      ...CLIENTS.map(({ client_id, client_secret }) => ({
        client_id,
        client_secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      })),
      ...(options.clients ?? []),
    ],
    ...(options.clientMetadataFetch ? { fetch: options.clientMetadataFetch } : {}),
    // Fixed keys: the provider otherwise warns that its cookies are signed with a generated one.
    cookies: { keys: ['gatehouse-test-cookie-key'] },
    // Anyone may sign in, under any name: the account is the name (the token's `sub`).
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    // Lifetimes set here only to keep the provider from warning about its defaults.
    ttl: {
      AccessToken: accessTokenTTL,
      ClientCredentials: accessTokenTTL,
      Grant: 3600,
      Interaction: 600,
      RefreshToken: 86_400,
      Session: 3600,
    },
    features: {
      clientCredentials: { enabled: true },
      registration: { enabled: registration },
      clientIdMetadataDocument: { enabled: options.clientMetadataFetch !== undefined, ack: 'draft-02' },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        // Any resource the client names becomes the token's audience: the resource server (the
        // gateway) is the one that must refuse a token meant for someone else.
        getResourceServerInfo: (_ctx, resource) => ({
          scope,
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL,
        }),
      },
    },
    // Resource scopes listed too: dynamic registration refuses a client whose `scope` names others.
    scopes: ['openid', 'offline_access', ...scope.split(' ')],
    // PKCE (S256, the only method oidc-provider offers) for every client, not only public ones.
    pkce: { required: () => true },
    extraTokenClaims: (_ctx, token) => {
      const client = CLIENTS.find((c) => c.client_id === token.clientId);
      if (client) return { roles: client.roles };
      const accountId = 'accountId' in token ? token.accountId : undefined;
      return accountId === undefined ? {} : options.userClaims?.[accountId];
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    provider,
    async token({ resource, scope = 'mcp:tools', clientId = 'agent-one' }) {
      const client = CLIENTS.find((c) => c.client_id === clientId)!;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
      });
      const body = (await res.json()) as {
        access_token?: string;
        error?: string;
        error_description?: string;
      };
      if (!body.access_token)
        throw new Error(`token request failed: ${body.error} ${body.error_description}`);
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

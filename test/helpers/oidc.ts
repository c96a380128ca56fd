// A real OpenID provider (oidc-provider from npm) on a loopback port, for tests that need an
// identity provider: discovery, JWKS, and JWT access tokens for a resource (RFC 8707) through
// the client-credentials grant.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestIssuer {
  /** The issuer URL (discovery at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  /** A JWT access token for `resource`, carrying `scope` and any extra claims. */
  token(options: { resource: string; scope?: string; clientId?: string }): Promise<string>;
  close(): Promise<void>;
}

export const CLIENTS = [
  { client_id: 'agent-one', client_secret: 'agent-one-secret', roles: ['ops'] },
  { client_id: 'agent-two', client_secret: 'agent-two-secret', roles: ['intern'] },
];

export async function startIssuer(): Promise<TestIssuer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: CLIENTS.map(({ client_id, client_secret }) => ({
      client_id,
      client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'mcp:tools mcp:admin',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => {
      const client = CLIENTS.find((c) => c.client_id === token.clientId);
      return client ? { roles: client.roles } : {};
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// An MCP client application's side of OAuth, for tests: an OAuthClientProvider (the v2 SDK's
// interface; the v1 SDK accepts it too) that keeps one user's registration, tokens, PKCE
// verifier and discovery state, and "redirects the browser" by signing the user in with the
// browser-less driver (oidc-login.ts). `connectAs` runs the whole dance with the v2 client.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import {
  Client,
  type OAuthClientInformationMixed,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type OAuthTokens,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { signIn } from './oidc-login.ts';

/** Never visited: the sign-in driver stops at the redirect to it. */
export const REDIRECT = 'http://127.0.0.1:1/callback';

const CLIENT_METADATA = {
  client_name: 'Gatehouse OAuth flow test',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
} satisfies OAuthClientMetadata;

/** The Client ID Metadata Document to serve at `url` (a loopback redirect: a native app). */
export function clientMetadataDocument(url: string) {
  return { ...CLIENT_METADATA, client_id: url, application_type: 'native' };
}

/**
 * What an MCP client application keeps for one user: its registration, tokens, PKCE verifier and
 * discovery state; "redirecting the browser" signs `user` in with the driver and keeps the
 * redirect back, for the test to hand to `finishAuth`.
 */
export class SignedInUser implements OAuthClientProvider {
  readonly authorizationUrls: URL[] = [];
  readonly savedTokens: OAuthTokens[] = [];
  callback?: URL;
  #state?: string;
  #verifier?: string;
  #discovery?: OAuthDiscoveryState;

  readonly user: string;
  client?: OAuthClientInformationMixed;
  /** An HTTPS URL serving `clientMetadataDocument(url)`: used as the client id where the AS allows. */
  readonly clientMetadataUrl?: string;

  /** `client`: pre-registered client information; without it the client registers itself. */
  constructor(
    user: string,
    options: { client?: OAuthClientInformationMixed; clientMetadataUrl?: string } = {},
  ) {
    this.user = user;
    this.client = options.client;
    this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return CLIENT_METADATA;
  }
  state() {
    this.#state = randomUUID();
    return this.#state;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens.at(-1);
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens.push(tokens);
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    this.callback = await signIn(url, this.user);
    // What a client's redirect handler checks before using the code.
    assert.equal(this.callback.searchParams.get('state'), this.#state);
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    if (!this.#verifier) throw new Error('no PKCE verifier saved');
    return this.#verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
  /** The access token's claims (decoded; the gateway is the one that verifies them). */
  claims() {
    const token = this.tokens()?.access_token;
    assert.ok(token, `${this.user} has no access token`);
    return decodeJwt(token);
  }
  /** base64url(SHA-256(verifier)): the PKCE challenge the verifier answers. */
  challenge() {
    return createHash('sha256').update(this.codeVerifier()).digest('base64url');
  }
}

/**
 * Connects the v2 SDK client as `user`: the first attempt meets the gateway's 401 (or a 403 for a
 * missing scope, with `signInAgain`) and ends with the user signed in (UnauthorizedError, as for
 * a real redirect), `finishAuth` exchanges the code, and the second attempt connects with the
 * token. With tokens already held, it just connects.
 */
export async function connectAs(
  endpoint: string,
  user: SignedInUser,
  { signInAgain = false } = {},
): Promise<Client> {
  const attempt = async () => {
    const client = new Client({ name: 'oauth-flow-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: user }));
    return client;
  };
  if (user.tokens() && !signInAgain) return attempt();
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: user });
  await assert.rejects(
    new Client({ name: 'oauth-flow-test', version: '1.0.0' }).connect(transport),
    (err) => {
      assert.ok(err instanceof UnauthorizedError, String(err));
      return true;
    },
  );
  const callback = user.callback;
  assert.ok(callback?.searchParams.get('code'), `no code: ${callback}`);
  await transport.finishAuth(callback!.searchParams);
  return attempt();
}

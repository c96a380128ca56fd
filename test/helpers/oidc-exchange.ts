// RFC 8693 token exchange at the test OpenID provider, registered as an extra grant type (the
// provider has the hook, not the grant): a valid access token the provider issued for one
// resource is traded for a JWT access token for another, carrying the same subject.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { TestIssuer } from './oidc.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** Subject tokens must have been issued for `subjectAudience` (the gateway). */
export function enableTokenExchange(issuer: TestIssuer, subjectAudience: string): { exchanged: number } {
  const stats = { exchanged: 0 };
  const keys = createRemoteJWKSet(new URL(`${issuer.issuer}/jwks`));
  const parameters = new Set([
    'subject_token',
    'subject_token_type',
    'requested_token_type',
    'audience',
    'scope',
    'resource',
  ]);
  issuer.provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const resource = params.resource;
      let subject: string | undefined;
      try {
        const verified = await jwtVerify(params.subject_token ?? '', keys, {
          issuer: issuer.issuer,
          audience: subjectAudience,
        });
        subject = verified.payload.sub;
      } catch {
        subject = undefined;
      }
      if (!subject || !resource || params.subject_token_type !== ACCESS_TOKEN) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant' };
        return;
      }
      const { AccessToken, ResourceServer } = ctx.oidc.provider;
      // No grant stands behind an exchanged token (nothing to revoke it through), hence no grantId.
      const token = new AccessToken({
        grantId: undefined as unknown as string,
        accountId: subject,
        client: ctx.oidc.client!,
        scope: 'mcp:tools',
        gty: 'token-exchange',
      });
      token.resourceServer = new ResourceServer(resource, {
        audience: resource,
        scope: 'mcp:tools',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 60,
      });
      const value = await token.save();
      stats.exchanged++;
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN,
        token_type: 'Bearer',
        expires_in: 60,
      };
    },
    parameters,
  );
  return stats;
}

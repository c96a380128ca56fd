// Builds the authenticator a config describes: the API-key store, the JWT verifier for the
// configured issuers, and one throttle for failed attempts that outlives reloads.
import type { AuthConfig } from '../config/auth-schema.ts';
import { type AttemptThrottle, createAuthenticator } from './authenticate.ts';
import { createJwtVerifier } from './jwt.ts';
import { createKeyStore } from './key-store.ts';

export function authenticatorFor(auth: AuthConfig, throttle: AttemptThrottle) {
  const keys = auth.apiKeys ? createKeyStore({ path: auth.apiKeys.file }) : undefined;
  const jwt =
    auth.jwt.length === 0
      ? undefined
      : createJwtVerifier(
          auth.jwt.map((issuer) => ({
            ...issuer,
            // Config loading guarantees one of the two is set.
            audience: issuer.audience ?? [auth.resource!],
            // Defaulted to the gateway's URL: its endpoints' URLs are the gateway's too.
            endpointsOf: issuer.audience ? undefined : auth.resource,
          })),
        );
  return createAuthenticator(auth, { keys, jwt, throttle });
}

// The `auth` section of gatehouse.yaml: who may call the gateway. Without any method configured
// every request is refused; anonymous access must be asked for by name (and is logged loudly).
import { z } from 'zod';

const issuerSchema = z.strictObject({
  /** Exactly as the provider writes it in `iss`. */
  issuer: z.url(),
  /** Audiences a token must name one of; defaults to the gateway's own resource URL. */
  audience: z.array(z.string()).optional(),
  /** Skips discovery (`<issuer>/.well-known/openid-configuration`) when given. */
  jwksUri: z.url().optional(),
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
  /** Which token claim holds each part of the identity. */
  claims: z
    .strictObject({
      user: z.string().default('sub'),
      agent: z.string().default('client_id'),
      roles: z.string().default('roles'),
      groups: z.string().default('groups'),
      teams: z.string().default('team'),
    })
    .prefault({}),
});

export const authSchema = z
  .strictObject({
    /** Lets requests without credentials in, as principal `anonymous`. Logged at start as a warning. */
    anonymous: z.boolean().default(false),
    /** The gateway's public MCP URL (RFC 8707 resource, token audience, protected-resource metadata). */
    resource: z.url().optional(),
    /** The key store `gatehouse keys` manages; API keys are off without it. */
    apiKeys: z.strictObject({ file: z.string().min(1) }).optional(),
    /** OpenID providers whose bearer JWTs are accepted. */
    jwt: z.array(issuerSchema).default([]),
    /** Scopes a token must carry for any MCP request. */
    requiredScopes: z.array(z.string()).default([]),
  })
  .prefault({});

export type AuthConfig = z.infer<typeof authSchema>;
export type IssuerSettings = z.infer<typeof issuerSchema>;

// The one source of truth for gatehouse.yaml. Every object is strict: an unknown key is an
// error, so a typo never silently turns a setting off. Defaults live here and nowhere else.
import { z } from 'zod';
import { adminSchema } from '../admin/schema.ts';
import { auditSchema } from '../audit/schema.ts';
import { policySchema } from '../policy/schema.ts';
import { logsSchema, metricsSchema } from '../telemetry/schema.ts';
import { tracingSchema } from '../telemetry/tracing-schema.ts';
import { authSchema } from './auth-schema.ts';
import { secretsSchema } from './secrets-schema.ts';

const name = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'use 1-32 letters, digits, "_" or "-"');

const upstreamCommon = {
  /** Per-call timeout; a timed-out call is answered with an error and cancelled upstream. */
  timeoutMs: z.number().int().positive().default(60_000),
  /** Per-tool timeouts (upstream tool name → ms), for the few calls that need another limit. */
  toolTimeoutsMs: z.record(z.string(), z.number().int().positive()).default({}),
  /** Progress notifications restart the timeout, but no call runs longer than this. */
  maxCallMs: z.number().int().positive().default(600_000),
  /**
   * `session`: each client session gets its own upstream session (for stdio, its own process),
   * so sampling, elicitation and roots requests reach the right client. `gateway`: one
   * connection serves every session; the upstream is told clients can do none of those.
   */
  share: z.enum(['session', 'gateway']).default('session'),
  /** Protocol era: `auto` starts with the session handshake and moves to stateless if the server asks. */
  era: z.enum(['auto', 'session', 'stateless']).default('auto'),
  /** How long connecting (spawn or first request + initialize) may take. */
  connectTimeoutMs: z.number().int().positive().default(15_000),
};

const stdioUpstream = z.strictObject({
  transport: z.literal('stdio'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Added to a minimal inherited environment (PATH, HOME, ...); secrets go here, never in args. */
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
  ...upstreamCommon,
});

const delegation = {
  /** The gateway's client at that authorization server. */
  clientId: z.string().min(1),
  /** Absent for a public client; write it as `${secret:NAME}` or `${file:PATH}`. */
  clientSecret: z.string().min(1).optional(),
  scopes: z.array(z.string()).default([]),
  /** The RFC 8707 resource tokens are asked for; the upstream's URL by default. */
  resource: z.url().optional(),
};

/**
 * Calls the upstream as the calling user. `oauth`: each user authorizes the gateway once at the
 * upstream's authorization server (authorization code + PKCE); their tokens are kept encrypted
 * and refreshed. `token-exchange`: the caller's token is exchanged at `issuer` (RFC 8693) for one
 * issued for this upstream. Either way the client's own token never goes upstream.
 */
const onBehalfOfSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('oauth'), issuer: z.url(), ...delegation }),
  z.strictObject({
    method: z.literal('token-exchange'),
    issuer: z.url(),
    audience: z.string().optional(),
    ...delegation,
  }),
]);

const httpUpstream = z.strictObject({
  /** `http` is Streamable HTTP; `sse` is the legacy HTTP+SSE transport (2024-11-05). */
  transport: z.enum(['http', 'sse']),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).default({}),
  onBehalfOf: onBehalfOfSchema.optional(),
  ...upstreamCommon,
});

export const upstreamSchema = z.discriminatedUnion('transport', [stdioUpstream, httpUpstream]);

const prefixMode = z.enum(['always', 'never', 'on-collision']);

/** Joins server and tool names: `<server><separator><tool>`. */
const separator = z.string().regex(/^[A-Za-z0-9_.-]{1,3}$/, 'use 1-3 of letters, digits, "_", "." or "-"');

export const namingSchema = z.strictObject({
  separator: separator.default('__'),
  prefix: prefixMode.default('always'),
});

const overrideSchema = z.strictObject({
  description: z.string().optional(),
  title: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

const virtualServerSchema = z.strictObject({
  /** Upstream servers this virtual server draws from; all when omitted. */
  servers: z.array(name).optional(),
  /** Globs over exposed tool names (after naming, before renames); `*` matches any run. */
  include: z.array(z.string()).default(['*']),
  exclude: z.array(z.string()).default([]),
  /** Exposed name → new name. */
  rename: z.record(z.string(), z.string()).default({}),
  /** Keyed by the final exposed tool name. */
  overrides: z.record(z.string(), overrideSchema).default({}),
  /**
   * Naming for this virtual server only; inherits the global naming where unset. Not
   * `namingSchema.partial()`: its defaults would fill the unset fields and hide the global ones.
   */
  naming: z.strictObject({ separator: separator.optional(), prefix: prefixMode.optional() }).optional(),
  /** Serve this endpoint without credentials (or require them here when `auth.anonymous` is on). */
  anonymous: z.boolean().optional(),
});

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      // Digits as text are accepted, so `${PORT}` from the environment works. Not z.coerce: it
      // turns an empty `${PORT}` or a blank `port:` into 0, silently meaning "any free port".
      port: z
        .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], {
          error: 'use a port number (0 picks any free port)',
        })
        .pipe(z.number().int().min(0).max(65535))
        .default(4680),
      /** Origins allowed besides loopback ones; a request with another Origin gets 403. */
      allowedOrigins: z.array(z.string()).default([]),
      /** Host header values allowed besides loopback ones (DNS-rebinding defence). */
      allowedHosts: z.array(z.string()).default([]),
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(4 * 1024 * 1024),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      idleTtlSeconds: z.number().positive().default(1800),
      maxSessions: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  shutdown: z.strictObject({ drainSeconds: z.number().nonnegative().default(10) }).prefault({}),
  naming: namingSchema.prefault({}),
  /** Merged lists are handed out in pages of this size, with the gateway's own cursors. */
  pagination: z.strictObject({ pageSize: z.number().int().positive().max(10_000).default(500) }).prefault({}),
  upstreams: z.record(name, upstreamSchema).refine((u) => Object.keys(u).length > 0, {
    message: 'configure at least one upstream server',
  }),
  virtualServers: z.record(name, virtualServerSchema).default({}),
  auth: authSchema,
  /**
   * Where users' upstream tokens (`onBehalfOf.method: oauth`) are kept, each entry sealed with
   * the master key of the `secrets` section.
   */
  userTokens: z.strictObject({ file: z.string().min(1) }).optional(),
  /** One record per interaction, kept tamper-evident and sent to SIEMs (docs/configuration.md, `audit`). */
  audit: auditSchema,
  /** Who may use the admin HTTP API (docs/configuration.md, `admin`). */
  admin: adminSchema,
  /** Prometheus metrics (docs/configuration.md, `metrics`). */
  metrics: metricsSchema,
  /** The gateway's own log on stderr (docs/configuration.md, `logs`). */
  logs: logsSchema,
  /** OpenTelemetry spans exported over OTLP/HTTP (docs/configuration.md, `tracing`). Off by default. */
  tracing: tracingSchema,
  /** Who may see and call what (docs/configuration.md, `policy`). No rules: everything is allowed. */
  policy: policySchema.prefault({}),
  /** The encrypted local secret store `${secret:NAME}` reads and `gatehouse secrets` writes. */
  secrets: secretsSchema.optional(),
});

export type Config = z.infer<typeof configSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type OnBehalfOf = z.infer<typeof onBehalfOfSchema>;
export type NamingConfig = z.infer<typeof namingSchema>;
export type VirtualServerConfig = z.infer<typeof virtualServerSchema>;

// What the downstream edge needs from the running gateway.

import type { AuditStore } from '../audit/store.ts';
import type { Config } from '../config/schema.ts';
import type { CredentialSources } from '../credentials/upstream-credential.ts';
import type { AuthOutcome } from '../identity/authenticate.ts';
import type { Policy } from '../policy/engine.ts';
import type { SessionRegistry } from '../session/registry.ts';
import type { Log } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Observer } from '../telemetry/observation.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { SharedUpstreams } from '../upstream/shared.ts';

export interface GatewayContext {
  /** The config new work starts on; work in flight keeps the one it started with. */
  readonly config: Config;
  readonly registry: SessionRegistry;
  /** Upstream contexts shared by stateless (2026-07-28) clients. */
  readonly pool: SessionRegistry;
  /** Upstreams one connection of which serves every session (`share: gateway`). */
  readonly shared: SharedUpstreams;
  readonly draining: boolean;
  log: Log;
  /** The policy in force for new work (replaced on reload). */
  readonly policy: Policy;
  /** Who sees every interaction: audit and metrics. */
  readonly observer: Observer;
  /** The audit store, for the admin API's searches (undefined when audit is off). */
  readonly auditStore?: AuditStore;
  /** Prometheus metrics, when served on the gateway's own listener. */
  readonly metrics?: Metrics;
  /** Spans for each request (undefined when tracing is off). */
  readonly tracing?: Tracing;
  /** Tokens for upstreams that act for the user (`onBehalfOf`). */
  readonly credentials: CredentialSources;
  /** Who is calling: a principal, or the refusal to answer with (at once when already known). */
  authenticate(req: import('node:http').IncomingMessage): AuthOutcome | Promise<AuthOutcome>;
  /** Counts a piece of client work as in flight until it settles (for graceful drain). */
  track<T>(work: Promise<T>): Promise<T>;
}

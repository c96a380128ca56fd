// The running gateway: the HTTP front door, the session registries, the current config and the
// graceful stop. Wiring only; behaviour lives in transport/, session/, route/ and upstream/.
import type { AddressInfo } from 'node:net';
import type { AuditWriterStats } from './audit/writer.ts';
import type { Config } from './config/schema.ts';
import { secretValues } from './config/secret-values.ts';
import { credentialSourcesFor } from './credentials/from-config.ts';
import { authenticatorFor } from './identity/from-config.ts';
import { createThrottle } from './identity/throttle.ts';
import { compilePolicy } from './policy/engine.ts';
import { SessionRegistry } from './session/registry.ts';
import { createLogger, type Log } from './telemetry/logger.ts';
import { openObservers } from './telemetry/observers.ts';
import type { GatewayContext } from './transport/context.ts';
import { createHttpServer } from './transport/http-server.ts';
import { heldCalls } from './transport/mrtr.ts';
import { SharedUpstreams } from './upstream/shared.ts';

export interface Gateway {
  /** The gateway's log (structured, secrets masked), for its command to write through too. */
  readonly log: Log;
  /** Base URL, e.g. http://127.0.0.1:4680; the MCP endpoint is `${url}/mcp`. */
  readonly url: string;
  readonly config: Config;
  /** Swaps the config for new work; sessions in flight keep the config they started with. */
  reload(config: Config): void;
  /** Stops taking work, lets calls in flight finish (up to the drain deadline), then stops children. */
  close(): Promise<void>;
  /** Live session-era sessions (for tests and the admin API). */
  sessionCount(): number;
  /** The audit writer's counters (undefined when audit is off). */
  auditStats(): AuditWriterStats | undefined;
}

export interface GatewayOptions {
  log?: (line: string) => void;
}

export async function startGateway(initial: Config, options: GatewayOptions = {}): Promise<Gateway> {
  let config = initial;
  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let secrets = secretValues(config);
  const log =
    options.log ??
    createLogger({ format: config.logs.format, level: config.logs.level, secrets: () => secrets }).log;
  const limits = () => ({
    idleTtlMs: config.sessions.idleTtlSeconds * 1000,
    max: config.sessions.maxSessions,
  });
  const registry = new SessionRegistry(limits());
  const pool = new SessionRegistry(limits());
  const shared = new SharedUpstreams(log);

  let policy = compilePolicy(config.policy);
  const throttle = createThrottle();
  let authenticate = authenticatorFor(config.auth, throttle);
  let credentials = credentialSourcesFor(config, log);
  warnAnonymous(config, log);
  const observers = await openObservers(config, { registry, pool }, log);
  const ctx: GatewayContext = {
    get config() {
      return config;
    },
    registry,
    pool,
    shared,
    get draining() {
      return draining;
    },
    log,
    authenticate: (req) => authenticate(req),
    get credentials() {
      return credentials;
    },
    observer: observers.observer,
    metrics: observers.metrics,
    tracing: observers.tracing,
    auditStore: observers.audit.store,
    get policy() {
      return policy;
    },
    track<T>(work: Promise<T>): Promise<T> {
      inFlight++;
      return work.finally(() => {
        inFlight--;
        if (inFlight === 0) drained?.();
      });
    },
  };

  const server = createHttpServer(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await observers.close(); // Nothing was served: flush and release the audit store, then fail.
    throw err;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    log,
    get config() {
      return config;
    },
    reload(next) {
      const nextCredentials = credentialSourcesFor(next, log, credentials);
      secrets = secretValues(next);
      const observed = (c: Config) => JSON.stringify([c.audit, c.metrics, c.tracing]);
      if (observed(next) !== observed(config)) {
        log('config: audit, metrics and tracing settings take effect at the next start, not on reload');
      }
      config = next;
      credentials = nextCredentials;
      authenticate = authenticatorFor(next.auth, throttle);
      policy = compilePolicy(next.policy);
      warnAnonymous(next, log);
      shared.reconfigure(next.upstreams);
      for (const sessions of [registry, pool]) {
        sessions.configure(limits());
        for (const { session } of sessions.all()) {
          if (!session.reconfigure(next)) void sessions.delete(session.id);
        }
      }
    },
    sessionCount: () => registry.size,
    auditStats: () => observers.audit.stats(),
    async close() {
      draining = true;
      server.close();
      if (inFlight > 0) {
        const deadline = new Promise<void>((r) => setTimeout(r, config.shutdown.drainSeconds * 1000).unref());
        await Promise.race([new Promise<void>((r) => (drained = r)), deadline]);
      }
      heldCalls.cancelAll();
      await Promise.all([registry.closeAll(), pool.closeAll()]);
      await shared.closeAll();
      server.closeAllConnections();
      // Last: every session's final records are in the queue by now.
      await observers.close();
    },
  };
}

/** Anonymous access is allowed only when asked for, and never quietly. */
function warnAnonymous(config: Config, log: Log): void {
  const open = Object.entries(config.virtualServers)
    .filter(([, vs]) => vs.anonymous ?? config.auth.anonymous)
    .map(([name]) => `/mcp/${name}`);
  if (config.auth.anonymous) open.unshift('/mcp');
  if (open.length > 0) {
    log(`WARNING: requests without credentials are served on ${open.join(', ')}`, { level: 'warn' });
  }
}

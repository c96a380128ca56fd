// Everything that observes the gateway at work, assembled from the config: the audit trail
// and Prometheus metrics, fed by one observer, and tracing; closed in order at shutdown.
import type http from 'node:http';
import { type Audit, openAudit } from '../audit/open-audit.ts';
import type { Config } from '../config/schema.ts';
import type { SessionRegistry } from '../session/registry.ts';
import { startMetricsServer } from '../transport/metrics-endpoint.ts';
import { liveChildren } from '../upstream/stdio.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { type Observer, observeAll } from './observation.ts';
import type { Tracing } from './tracing.ts';

export interface Observers {
  readonly observer: Observer;
  /** Metrics to serve on the gateway's own listener (undefined when off or on their own listener). */
  readonly metrics?: Metrics;
  readonly audit: Audit;
  /** Spans for each request (undefined when tracing is off). */
  readonly tracing?: Tracing;
  close(): Promise<void>;
}

export async function openObservers(
  config: Config,
  sessions: { registry: SessionRegistry; pool: SessionRegistry },
  log: (line: string) => void,
): Promise<Observers> {
  const audit = await openAudit(config.audit, log);
  // Loaded only when on: with tracing off the span recorder and exporter are never imported.
  const tracing = config.tracing.enabled
    ? (await import('./tracing.ts')).openTracing(config.tracing, log, config.audit.instance)
    : undefined;
  if (!config.metrics.enabled) {
    return {
      observer: audit.observer,
      audit,
      tracing,
      async close() {
        await audit.close();
        await tracing?.shutdown();
      },
    };
  }
  const metrics = createMetrics({
    sessions: () => ({ session: sessions.registry.size, stateless: sessions.pool.size }),
    childProcesses: () => liveChildren.size,
    upstreams: () => {
      const counts = new Map<string, { connected: number; down: number }>();
      for (const registry of [sessions.registry, sessions.pool]) {
        for (const { session } of registry.all()) {
          for (const u of session.upstreamStatus()) {
            const c = counts.get(u.name) ?? { connected: 0, down: 0 };
            if (u.connected) c.connected++;
            else c.down++;
            counts.set(u.name, c);
          }
        }
      }
      return counts;
    },
    audit: () => audit.stats(),
    sinks: () => audit.sinks(),
  });
  const listen = config.metrics.listen;
  let server: http.Server | undefined;
  if (listen) server = await startMetricsServer(metrics, { ...config.metrics, listen }, log);
  return {
    // Metrics first: they only count; the audit record is what may block.
    observer: observeAll([metrics.observer, audit.observer]),
    metrics: listen ? undefined : metrics,
    audit,
    tracing,
    async close() {
      server?.close();
      server?.closeAllConnections();
      await audit.close();
      await tracing?.shutdown();
    },
  };
}

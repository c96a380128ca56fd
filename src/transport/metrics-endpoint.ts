// The Prometheus scrape endpoint: on the gateway's listener (`metrics.path`) or on its own
// (`metrics.listen`), behind a bearer token when one is configured.
import { timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Metrics } from '../telemetry/metrics.ts';
import type { MetricsConfig } from '../telemetry/schema.ts';

export async function serveMetrics(
  metrics: Metrics,
  config: MetricsConfig,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  if (config.token !== undefined && !bearerMatches(req.headers.authorization, config.token)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"' }).end();
    return;
  }
  const { text, contentType } = await metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  // Constant time over the expected length: the comparison reveals nothing but a mismatch.
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** A listener of its own for scrapes (`metrics.listen`). */
export async function startMetricsServer(
  metrics: Metrics,
  config: MetricsConfig & { listen: NonNullable<MetricsConfig['listen']> },
  log: (line: string) => void,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== config.path) {
      res.writeHead(404).end();
      return;
    }
    serveMetrics(metrics, config, req, res).catch((err: unknown) => {
      log(`metrics: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

// Builds the transport an upstream's config asks for.
import type { UpstreamConfig } from '../config/schema.ts';
import { createLegacySseTransport } from './legacy-sse.ts';
import { createStdioTransport } from './stdio.ts';
import { createStreamableHttpTransport } from './streamable-http.ts';
import type { UpstreamTransport } from './transport.ts';

export function createTransport(config: UpstreamConfig, log: (line: string) => void): UpstreamTransport {
  switch (config.transport) {
    case 'stdio':
      return createStdioTransport({ ...config, onStderr: log });
    case 'http':
      return createStreamableHttpTransport({ url: config.url, headers: config.headers, onWarning: log });
    case 'sse':
      return createLegacySseTransport({ url: config.url, headers: config.headers, onWarning: log });
  }
}

// Builds the transport an upstream's config asks for.
import type { UpstreamConfig } from '../config/schema.ts';
import type { Credential } from '../credentials/upstream-credential.ts';
import { createLegacySseTransport } from './legacy-sse.ts';
import { createStdioTransport } from './stdio.ts';
import { createStreamableHttpTransport, type HttpOptions } from './streamable-http.ts';
import type { UpstreamTransport } from './transport.ts';

/** `credential` is the Authorization header of an upstream that acts for the user. */
export function createTransport(
  config: UpstreamConfig,
  log: (line: string) => void,
  credential?: Credential,
): UpstreamTransport {
  if (config.transport === 'stdio') return createStdioTransport({ ...config, onStderr: log });
  const options = {
    ...httpOptions(config.url, config.headers),
    credential: credential && (() => credential.header()),
    onUnauthorized: credential && (() => credential.rejected()),
    onWarning: log,
  };
  return config.transport === 'http'
    ? createStreamableHttpTransport(options)
    : createLegacySseTransport(options);
}

/**
 * Credentials written into the URL (`https://user:secret@host/mcp`) become a Basic
 * Authorization header (unless one is configured), and leave the URL, so they are sent as
 * meant and never appear where the URL is shown.
 */
export function httpOptions(raw: string, headers: Record<string, string>): Omit<HttpOptions, 'onWarning'> {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url: raw, headers };
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const hasAuth = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { url: url.href, headers: hasAuth ? headers : { ...headers, authorization: basic } };
}

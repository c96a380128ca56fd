// The secret values a config holds (credentials for upstreams, sinks, the audit database, the
// metrics token), for the logger to mask wherever they might appear. Environment values of
// stdio upstreams count when their name says they are secret; values under 6 characters are
// left out (masking them would garble ordinary text and protect little).
import type { Config } from './schema.ts';

const SECRET_NAME = /key|token|secret|pass|auth|cred|cookie|session/i;
const MIN_LENGTH = 6;

export function secretValues(config: Config): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined) => {
    if (value && value.length >= MIN_LENGTH) found.add(value);
  };
  const addHeaders = (headers: Record<string, string>) => {
    for (const value of Object.values(headers)) {
      add(value);
      add(/^(?:Bearer|Basic|Token)\s+(.+)$/i.exec(value)?.[1]);
    }
  };
  const addUrlPassword = (url: string) => {
    if (!URL.canParse(url)) return;
    const { password } = new URL(url);
    add(password);
    add(decodeURIComponent(password));
  };
  for (const upstream of Object.values(config.upstreams)) {
    if (upstream.transport === 'stdio') {
      for (const [name, value] of Object.entries(upstream.env)) if (SECRET_NAME.test(name)) add(value);
      continue;
    }
    addHeaders(upstream.headers);
    addUrlPassword(upstream.url);
    add(upstream.onBehalfOf?.clientSecret);
  }
  add(config.metrics.token);
  if (config.audit.store.type === 'postgres') addUrlPassword(config.audit.store.url);
  for (const sink of config.audit.sinks) if ('headers' in sink) addHeaders(sink.headers);
  // Longest first, so a value containing another is masked whole.
  return [...found].sort((a, b) => b.length - a.length);
}

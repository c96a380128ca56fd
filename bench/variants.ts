// The gateway configurations the benches compare: plain (audit and metrics off), governed
// (API key + 100-rule policy) and observed (audit, metrics, tracing at full sampling). Each
// gives config lines to put beside `listen` and `upstreams`.
import http from 'node:http';
import { join } from 'node:path';
import { createKeyStore } from '../src/identity/key-store.ts';

/** The baseline gateways run with audit and metrics off; the `observed` variant turns them on. */
export const OBSERVERS_OFF = ['audit: { enabled: false }', 'metrics: { enabled: false }'];

export const PLAIN = ['auth: { anonymous: true }', ...OBSERVERS_OFF];

/**
 * The observed variant: every call leaves an audit record in SQLite (default batching) in
 * `dir`, counts in Prometheus metrics, and its spans are exported over OTLP to `collector`.
 */
export function observability(dir: string, collector: string): string[] {
  return [
    'auth: { anonymous: true }',
    `audit: { store: { type: sqlite, file: ${JSON.stringify(join(dir, 'audit.db'))} }, spoolFile: ${JSON.stringify(join(dir, 'audit.spool'))} }`,
    'metrics: { enabled: true }',
    `tracing: { enabled: true, otlp: { url: "${collector}/v1/traces" } }`,
  ];
}

/** An OTLP receiver that accepts and discards: the exporter's peer, not under test. */
export async function startCollector(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/**
 * The governed variant: callers authenticate with an API key (its file in `dir`), and a
 * 100-rule policy decides every call (99 rules about other roles and servers, one — with a CEL
 * condition on the arguments — that lets the bench key call the echo tool). Returns the config
 * lines and the key.
 */
export function governance(dir: string): { lines: string[]; authorization: string } {
  const file = join(dir, 'keys.json');
  const { key } = createKeyStore({ path: file }).create({ name: 'bench', roles: ['bench'] });
  const rules: string[] = [];
  for (let i = 0; i < 99; i++) {
    const when = i % 5 === 0 ? ', when: "size(args) > 0"' : '';
    rules.push(
      `    - { id: r${i}, effect: ${i % 3 ? 'allow' : 'deny'}, principals: { roles: [team${i}] }, ` +
        `targets: { tools: ["other${i}__*"] }${when} }`,
    );
  }
  rules.push(
    `    - { id: bench, effect: allow, principals: { roles: [bench] }, targets: { tools: ["bench__*"] }, ` +
      `when: "args.text != 'forbidden'" }`,
  );
  return {
    lines: [
      ...OBSERVERS_OFF,
      `auth: { apiKeys: { file: ${JSON.stringify(file)} } }`,
      'policy:',
      '  unmatched: deny',
      '  rules:',
      ...rules,
    ],
    authorization: `Bearer ${key}`,
  };
}

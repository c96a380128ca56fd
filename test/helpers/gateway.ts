// Starting a real gateway in-process for a test, on port 0, with real upstream servers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config/schema.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Paths of the real MCP servers the tests run as upstreams. */
export const servers = {
  everything: `${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`,
  filesystem: `${root}node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`,
  memory: `${root}node_modules/@modelcontextprotocol/server-memory/dist/index.js`,
  conformance: `${root}test/fixtures/conformance-server.ts`,
};

/** A stdio upstream entry running `script` with this Node. */
export function stdio(script: string, args: string[] = [], env: Record<string, string> = {}) {
  return { transport: 'stdio' as const, command: process.execPath, args: [script, ...args], env };
}

/**
 * Starts a gateway from a config object (validated by the real schema); logs are collected.
 * Audit is on, into a fresh SQLite file, unless the config says otherwise; closing the gateway
 * fails the test if any audit record was dropped.
 */
export async function startTestGateway(
  config: Record<string, unknown>,
): Promise<Gateway & { logs: string[]; auditFile: string }> {
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-audit-'));
  const auditFile = join(dir, 'audit.db');
  const audit = { store: { type: 'sqlite', file: auditFile }, spoolFile: join(dir, 'audit.spool') };
  // Tests about anything but authentication run without credentials, as the config must say.
  const parsed = configSchema.parse({ listen: { port: 0 }, auth: { anonymous: true }, audit, ...config });
  const gateway = await startGateway(parsed, { log: (line) => logs.push(line) });
  const close = gateway.close.bind(gateway);
  return Object.assign(gateway, {
    logs,
    auditFile,
    async close() {
      await close();
      const dropped = gateway.auditStats()?.dropped ?? 0;
      rmSync(dir, { recursive: true, force: true });
      if (dropped > 0) throw new Error(`${dropped} audit record(s) were dropped`);
    },
  });
}

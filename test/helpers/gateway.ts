// Starting a real gateway in-process for a test, on port 0, with real upstream servers.
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

/** Starts a gateway from a config object (validated by the real schema); logs are collected. */
export async function startTestGateway(
  config: Record<string, unknown>,
): Promise<Gateway & { logs: string[] }> {
  const logs: string[] = [];
  // Tests about anything but authentication run without credentials, as the config must say.
  const parsed = configSchema.parse({ listen: { port: 0 }, auth: { anonymous: true }, ...config });
  const gateway = await startGateway(parsed, { log: (line) => logs.push(line) });
  return Object.assign(gateway, { logs });
}

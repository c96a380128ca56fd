// A remote MCP server that is an OAuth resource server, as a SaaS MCP server is: every request
// must carry a bearer JWT from its authorization server, issued for its own URL (audience). Built
// with the official SDK v1 (Streamable HTTP, stateless), on loopback. Its `whoami` tool answers
// with the token's subject, so a test can see whose token a call carried; every Authorization
// header it receives is kept, so a test can show which tokens reached it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { z } from 'zod';

export interface ProtectedUpstream {
  url: string;
  /** Every Authorization header received, in order (valid or not). */
  readonly seen: string[];
  /** From now on, refuses every token issued to `subject` (as when a user revokes an app). */
  revoke(subject: string): void;
  close(): Promise<void>;
}

export async function startProtectedUpstream(issuer: string): Promise<ProtectedUpstream> {
  const seen: string[] = [];
  const revoked = new Set<string>();
  const keys = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  server.on('request', async (req, res) => {
    const header = req.headers.authorization ?? '';
    seen.push(header);
    let claims: JWTPayload;
    try {
      const token = /^Bearer (.+)$/.exec(header)?.[1] ?? '';
      ({ payload: claims } = await jwtVerify(token, keys, { issuer, audience: url }));
      if (revoked.has(String(claims.sub))) throw new Error('revoked');
    } catch {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    const mcp = new McpServer({ name: 'protected-fixture', version: '1.0.0' });
    mcp.registerTool(
      'whoami',
      { description: 'Says whose token the call carried', inputSchema: {} },
      async () => ({
        content: [{ type: 'text', text: `you are ${String(claims.sub)}` }],
      }),
    );
    mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  return {
    url,
    seen,
    revoke: (subject) => revoked.add(subject),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// Session lifecycle on the wire (DELETE, 404 for a dead session, 400 for a missing one), virtual
// servers, and clients of every era on one gateway: the v2 SDK client speaking 2026-07-28, the
// v1 client speaking 2025-11-25 over Streamable HTTP and the v1 client on legacy HTTP+SSE.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { connectV1, connectV1Sse, progressFor, tapMessages, tempDir, textOf } from './peers.ts';

const JSON_AND_SSE = 'application/json, text/event-stream';

/** A raw JSON-RPC POST to the gateway, for what the SDK clients will not send. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: JSON_AND_SSE, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** A v2 SDK client that negotiates the era (server/discover first, initialize as fallback). */
async function connectV2(endpoint: string, capabilities: Record<string, unknown> = {}) {
  const client = new ClientV2(
    { name: 'e2e-v2', version: '2.0.0' },
    { capabilities, versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(new StreamableV2(new URL(endpoint)));
  return client;
}

describe('sessions, virtual servers and both protocol eras', { concurrency: false }, () => {
  let gateway: Gateway;
  let files: Awaited<ReturnType<typeof tempDir>>;

  before(async () => {
    files = await tempDir('vs');
    gateway = await startTestGateway({
      upstreams: {
        every: stdio(servers.everything),
        fs: stdio(servers.filesystem, [files.path]),
      },
      virtualServers: {
        // A read-only view: no writing tools, and nothing from everything but echo.
        readonly: {
          exclude: ['fs__write_file', 'fs__edit_file', 'fs__move_file', 'fs__create_directory'],
        },
        echoOnly: { servers: ['every'], include: ['every__echo'] },
      },
    });
  });

  after(async () => {
    await gateway?.close();
    await files?.remove();
  });

  test('answers a non-initialize request without Mcp-Session-Id with 400', async () => {
    const res = await post(`${gateway.url}/mcp`, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(res.status, 400);
  });

  test('answers an unknown session id with 404', async () => {
    const res = await post(
      `${gateway.url}/mcp`,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' },
    );
    assert.equal(res.status, 404);
  });

  test('ends a session on DELETE, and the ended session then gets 404', async () => {
    const init = await post(`${gateway.url}/mcp`, initialize);
    assert.equal(init.status, 200);
    const sessionId = init.headers.get('mcp-session-id');
    assert.ok(sessionId, 'initialize returns Mcp-Session-Id');
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    const initialized = await post(
      `${gateway.url}/mcp`,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      headers,
    );
    assert.equal(initialized.status, 202);
    const list = await post(`${gateway.url}/mcp`, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers);
    assert.equal(list.status, 200);
    assert.match(list.text, /every__echo/);

    const sessionsBefore = gateway.sessionCount();
    const del = await fetch(`${gateway.url}/mcp`, { method: 'DELETE', headers });
    assert.equal(del.status, 200);
    assert.equal(gateway.sessionCount(), sessionsBefore - 1);
    const after = await post(`${gateway.url}/mcp`, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, headers);
    assert.equal(after.status, 404);
  });

  test('terminates a v1 SDK session with DELETE; a request on the ended session gets 404', async () => {
    const { client, transport } = await connectV1(`${gateway.url}/mcp`);
    const sessionId = transport.sessionId;
    assert.ok(sessionId);
    await transport.terminateSession();
    await client.close();
    // Reconnecting with the old id skips initialize (the SDK's resume path), so the next request
    // carries the terminated id, which the gateway must answer with 404.
    const stale = new Client({ name: 'e2e-stale', version: '1.0.0' });
    await stale.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { sessionId }));
    try {
      await assert.rejects(stale.listTools(), (err: { code?: number; message?: string }) => {
        assert.equal(err.code, 404, err.message);
        return true;
      });
    } finally {
      await stale.close();
    }
  });

  test('hides an excluded tool from a virtual server list', async () => {
    const { client } = await connectV1(`${gateway.url}/mcp/readonly`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('fs__read_text_file'));
      assert.ok(names.includes('every__echo'));
      assert.ok(!names.includes('fs__write_file'), 'fs__write_file is hidden');
      assert.ok(!names.includes('fs__move_file'), 'fs__move_file is hidden');
    } finally {
      await client.close();
    }
  });

  test('rejects a tool hidden by the virtual server without forwarding it', async () => {
    const { client } = await connectV1(`${gateway.url}/mcp/readonly`);
    const path = join(files.path, 'must-not-exist.txt');
    try {
      const outcome = await client
        .callTool({ name: 'fs__write_file', arguments: { path, content: 'x' } })
        .then(
          (r) => ({ rejected: false, isError: r.isError === true }),
          () => ({ rejected: true, isError: true }),
        );
      assert.equal(outcome.isError, true, 'calling a hidden tool is an error');
      assert.equal(existsSync(path), false, 'the upstream never ran the hidden tool');
      // The same tool through the default endpoint is reachable (the hiding is the view's doing).
      const { client: full } = await connectV1(`${gateway.url}/mcp`);
      try {
        const allowed = await full.callTool({ name: 'fs__write_file', arguments: { path, content: 'x' } });
        assert.notEqual(allowed.isError, true, textOf(allowed));
        assert.equal(existsSync(path), true);
      } finally {
        await full.close();
      }
    } finally {
      await client.close();
    }
  });

  test('limits a virtual server to its include globs and servers', async () => {
    const { client } = await connectV1(`${gateway.url}/mcp/echoOnly`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.deepEqual(names, ['every__echo']);
      const hidden = await client.callTool({ name: 'every__get-env', arguments: {} }).then(
        (r) => ({ isError: r.isError === true, text: textOf(r) }),
        () => ({ isError: true, text: '' }),
      );
      assert.equal(hidden.isError, true);
      assert.doesNotMatch(hidden.text, /PATH/, 'the environment never leaves the hidden tool');
    } finally {
      await client.close();
    }
  });

  test('answers an unknown virtual server with 404', async () => {
    const res = await post(`${gateway.url}/mcp/nope`, initialize);
    assert.equal(res.status, 404);
  });

  test('serves a 2026-07-28 client (v2 SDK) statelessly', async () => {
    const client = await connectV2(`${gateway.url}/mcp`);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('every__echo'));
      const result = await client.callTool({ name: 'every__echo', arguments: { message: 'modern' } });
      assert.equal(textOf(result), 'Echo: modern');
      const read = await client.readResource({ uri: 'every+demo://resource/dynamic/text/3' });
      assert.match((read.contents[0] as { text?: string }).text ?? '', /3/);
      const prompt = await client.getPrompt({ name: 'every__args-prompt', arguments: { city: 'Porto' } });
      assert.match(JSON.stringify(prompt.messages), /Porto/);
    } finally {
      await client.close();
    }
  });

  test('serves a 2026-07-28 client and a 2025-11-25 client side by side on one endpoint', async () => {
    const modern = await connectV2(`${gateway.url}/mcp`);
    const { client: legacy } = await connectV1(`${gateway.url}/mcp`);
    try {
      assert.equal(modern.getProtocolEra(), 'modern');
      const [a, b] = await Promise.all([
        modern.callTool({ name: 'every__echo', arguments: { message: 'from modern' } }),
        legacy.callTool({ name: 'every__echo', arguments: { message: 'from legacy' } }),
      ]);
      assert.equal(textOf(a), 'Echo: from modern');
      assert.equal(textOf(b), 'Echo: from legacy');
      const [modernTools, legacyTools] = await Promise.all([modern.listTools(), legacy.listTools()]);
      const visible = (tools: { name: string }[]) => new Set(tools.map((t) => t.name));
      assert.ok(visible(modernTools.tools).has('fs__read_text_file'));
      assert.ok(visible(legacyTools.tools).has('fs__read_text_file'));
    } finally {
      await modern.close();
      await legacy.close();
    }
  });

  test('bridges an upstream elicitation to a 2026-07-28 client as input_required', async () => {
    const client = new ClientV2(
      { name: 'e2e-v2-elicit', version: '2.0.0' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: 'auto' } },
    );
    let asked = 0;
    client.setRequestHandler('elicitation/create', async () => {
      asked++;
      return { action: 'accept', content: { name: 'Grace Hopper' } };
    });
    await client.connect(new StreamableV2(new URL(`${gateway.url}/mcp`)));
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const result = await client.callTool({ name: 'every__trigger-elicitation-request', arguments: {} });
      assert.equal(asked, 1);
      assert.match(textOf(result), /Name: Grace Hopper/);
    } finally {
      await client.close();
    }
  });

  test('serves a v2 SDK client pinned to the session era like any 2025 client', async () => {
    const client = new ClientV2({ name: 'e2e-v2-legacy', version: '2.0.0' }, {});
    await client.connect(new StreamableV2(new URL(`${gateway.url}/mcp`)));
    try {
      assert.equal(client.getProtocolEra(), 'legacy');
      const result = await client.callTool({ name: 'every__echo', arguments: { message: 'v2 legacy' } });
      assert.equal(textOf(result), 'Echo: v2 legacy');
    } finally {
      await client.close();
    }
  });

  test('serves a legacy HTTP+SSE client (v1 SSEClientTransport) on /sse', async () => {
    const { client, transport } = await connectV1Sse(`${gateway.url}/sse`, {
      capabilities: { sampling: {} },
    });
    const wire = tapMessages(transport);
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'sse-model',
      role: 'assistant',
      content: { type: 'text', text: 'sampled over sse' },
    }));
    try {
      assert.equal(client.getServerVersion()?.name, 'gatehouse');
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('every__echo'));
      const echo = await client.callTool({ name: 'every__echo', arguments: { message: 'over sse' } });
      assert.equal(textOf(echo), 'Echo: over sse');
      await client.callTool({
        name: 'every__trigger-long-running-operation',
        arguments: { duration: 0.2, steps: 2 },
        _meta: { progressToken: 'sse-progress' },
      });
      assert.deepEqual(progressFor(wire, 'sse-progress'), [
        [1, 2],
        [2, 2],
      ]);
      const sampled = await client.callTool({
        name: 'every__trigger-sampling-request',
        arguments: { prompt: 'hi', maxTokens: 5 },
      });
      assert.match(textOf(sampled), /sampled over sse/);
    } finally {
      await client.close();
    }
  });

  test('serves a legacy HTTP+SSE client on a virtual server (/sse/<name>)', async () => {
    const { client } = await connectV1Sse(`${gateway.url}/sse/echoOnly`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.deepEqual(names, ['every__echo']);
    } finally {
      await client.close();
    }
  });
});

// The stateless era (2026-07-28) end to end: the official v2 SDK client negotiating with
// server/discover, through the gateway, to session-era upstreams (server-everything over stdio
// and Streamable HTTP). Server→client requests come back as input_required (MRTR) rounds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Gateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { type HttpUpstream, startEverythingHttp, tapMessages, textOf, waitFor } from './peers.ts';

const MODERN = '2026-07-28';

async function connectModern(endpoint: string, capabilities: Record<string, unknown> = {}) {
  const client = new Client(
    { name: 'e2e-modern', version: '2.0.0' },
    { capabilities, versionNegotiation: { mode: 'auto' } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(endpoint));
  await client.connect(transport);
  return { client, transport };
}

/** A raw 2026-07-28 POST with the envelope and mirrored headers a conforming client sends. */
async function modernPost(url: string, method: string, params: Record<string, unknown>, headers = {}) {
  const body = {
    jsonrpc: '2.0',
    id: 1,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
      },
    },
  };
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: number }; result?: unknown } };
}

describe('2026-07-28 clients (v2 SDK) through the gateway', { concurrency: false }, () => {
  let gateway: Gateway;
  let everythingHttp: HttpUpstream;

  before(async () => {
    everythingHttp = await startEverythingHttp();
    gateway = await startTestGateway({
      upstreams: {
        every: stdio(servers.everything),
        everyhttp: { transport: 'http', url: everythingHttp.url },
      },
      virtualServers: { noenv: { exclude: ['*__get-env'] } },
    });
  });

  after(async () => {
    await gateway?.close();
    await everythingHttp?.stop();
  });

  test('negotiates 2026-07-28 through server/discover', async () => {
    const { client } = await connectModern(`${gateway.url}/mcp`);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      const discover = client.getDiscoverResult();
      assert.ok(discover?.supportedVersions.includes(MODERN));
      assert.ok(discover?.capabilities.tools);
    } finally {
      await client.close();
    }
  });

  for (const server of ['every', 'everyhttp']) {
    test(`routes a 2026-07-28 tool call to ${server} and marks the result complete`, async () => {
      const { client, transport } = await connectModern(`${gateway.url}/mcp`);
      const wire = tapMessages(transport);
      try {
        const result = await client.callTool({
          name: `${server}__echo`,
          arguments: { message: 'stateless' },
        });
        assert.equal(textOf(result), 'Echo: stateless');
        const response = wire.find((m) => 'result' in m) as { result: { resultType?: string } } | undefined;
        assert.equal(response?.result.resultType, 'complete');
      } finally {
        await client.close();
      }
    });
  }

  test('relays progress to a 2026-07-28 client on the call stream', async () => {
    const { client, transport } = await connectModern(`${gateway.url}/mcp`);
    const wire = tapMessages(transport);
    try {
      const result = await client.callTool(
        { name: 'everyhttp__trigger-long-running-operation', arguments: { duration: 0.4, steps: 4 } },
        { onprogress: () => {} },
      );
      assert.match(textOf(result), /completed/);
      const progress = wire
        .filter((m) => m.method === 'notifications/progress')
        .map((m) => (m.params as { progress: number }).progress);
      assert.deepEqual(progress, [1, 2, 3, 4]);
    } finally {
      await client.close();
    }
  });

  for (const server of ['every', 'everyhttp']) {
    test(`bridges a sampling request from ${server} to a 2026-07-28 client as input_required`, async () => {
      const client = new Client(
        { name: 'e2e-modern-sampling', version: '2.0.0' },
        { capabilities: { sampling: {} }, versionNegotiation: { mode: 'auto' } },
      );
      let asked = 0;
      client.setRequestHandler('sampling/createMessage', async () => {
        asked++;
        return {
          model: 'mrtr-model',
          role: 'assistant',
          content: { type: 'text', text: 'answered via MRTR' },
        };
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
      try {
        const result = await client.callTool({
          name: `${server}__trigger-sampling-request`,
          arguments: { prompt: 'hello', maxTokens: 5 },
        });
        assert.equal(asked, 1);
        assert.match(textOf(result), /answered via MRTR/);
      } finally {
        await client.close();
      }
    });
  }

  test('bridges a roots/list request to a 2026-07-28 client as input_required', async () => {
    const client = new Client(
      { name: 'e2e-modern-roots', version: '2.0.0' },
      { capabilities: { roots: {} }, versionNegotiation: { mode: 'auto' } },
    );
    client.setRequestHandler('roots/list', async () => ({
      roots: [{ uri: 'file:///modern/root', name: 'modern' }],
    }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'everyhttp__get-roots-list', arguments: {} });
      assert.match(textOf(result), /file:\/\/\/modern\/root/);
    } finally {
      await client.close();
    }
  });

  test('cancels a 2026-07-28 call when the client aborts, and keeps serving', async () => {
    const { client } = await connectModern(`${gateway.url}/mcp`);
    try {
      const abort = new AbortController();
      const call = client.callTool(
        { name: 'every__trigger-long-running-operation', arguments: { duration: 30, steps: 30 } },
        { signal: abort.signal },
      );
      setTimeout(() => abort.abort(new Error('stop')), 300);
      const started = Date.now();
      await assert.rejects(call);
      assert.ok(Date.now() - started < 5000);
      const echo = await client.callTool({ name: 'every__echo', arguments: { message: 'still here' } });
      assert.equal(textOf(echo), 'Echo: still here');
    } finally {
      await client.close();
    }
  });

  test('hides a virtual-server-excluded tool from a 2026-07-28 client and refuses to call it', async () => {
    const { client } = await connectModern(`${gateway.url}/mcp/noenv`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('every__echo'));
      assert.ok(!names.includes('every__get-env'));
      const outcome = await client.callTool({ name: 'every__get-env', arguments: {} }).then(
        (r) => ({ isError: r.isError === true, text: textOf(r) }),
        () => ({ isError: true, text: '' }),
      );
      assert.equal(outcome.isError, true);
      assert.doesNotMatch(outcome.text, /PATH/);
    } finally {
      await client.close();
    }
  });

  test('notifies a subscriptions/listen stream when an upstream list changes', async () => {
    const { client } = await connectModern(`${gateway.url}/mcp`);
    let changed = 0;
    client.setNotificationHandler('notifications/resources/list_changed', () => {
      changed++;
    });
    const subscription = await client.listen({ resourcesListChanged: true });
    try {
      assert.equal(subscription.honoredFilter.resourcesListChanged, true);
      const data = `data:text/plain;base64,${Buffer.from('modern').toString('base64')}`;
      const result = await client.callTool({
        name: 'every__gzip-file-as-resource',
        arguments: { name: 'modern.txt', data, outputType: 'resourceLink' },
      });
      assert.notEqual(result.isError, true, textOf(result));
      await waitFor(() => changed > 0, 5000, 'notifications/resources/list_changed on the listen stream');
    } finally {
      await subscription.close();
      await client.close();
    }
  });

  test('rejects a 2026-07-28 request whose Mcp-Method header does not match the body', async () => {
    const res = await modernPost(`${gateway.url}/mcp`, 'tools/list', {}, { 'mcp-method': 'prompts/list' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error?.code, -32020);
  });

  test('rejects a 2026-07-28 tools/call without Mcp-Name', async () => {
    const res = await modernPost(`${gateway.url}/mcp`, 'tools/call', { name: 'every__echo', arguments: {} });
    assert.equal(res.status, 400);
  });
});

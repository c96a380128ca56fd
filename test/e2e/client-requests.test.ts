// What travels back to the client: sampling, elicitation and roots requests raised by an upstream
// mid-call, progress notifications, cancellation and list_changed — with the official v1 SDK
// client declaring the capabilities, against server-everything over stdio and Streamable HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type Progress,
  ResourceListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import {
  connectV1,
  type HttpUpstream,
  progressFor,
  startEverythingHttp,
  tapMessages,
  textOf,
  waitFor,
} from './peers.ts';

describe('server→client requests and notifications through the gateway', { concurrency: false }, () => {
  let gateway: Gateway;
  let everythingHttp: HttpUpstream;
  let client: Client;
  let wire: Record<string, unknown>[] = [];
  const sampled: string[] = [];
  const elicited: string[] = [];
  let roots = [{ uri: 'file:///work/first', name: 'first' }];
  let rootsAsked = 0;
  let resourceListChanged = 0;

  before(async () => {
    everythingHttp = await startEverythingHttp();
    gateway = await startTestGateway({
      upstreams: {
        every: stdio(servers.everything),
        everyhttp: { transport: 'http', url: everythingHttp.url },
      },
    });
    const connected = await connectV1(`${gateway.url}/mcp`, {
      capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } },
    });
    client = connected.client;
    wire = tapMessages(connected.transport);
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]?.content as { text?: string };
      sampled.push(content.text ?? '');
      return {
        model: 'e2e-model',
        role: 'assistant',
        content: { type: 'text', text: 'sampled by the e2e client' },
      };
    });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicited.push(request.params.message);
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      rootsAsked++;
      return { roots };
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      resourceListChanged++;
    });
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await everythingHttp?.stop();
  });

  test('lists the tools an upstream registers only for clients that declare sampling, elicitation and roots', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const server of ['every', 'everyhttp']) {
      for (const tool of ['trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list']) {
        assert.ok(names.includes(`${server}__${tool}`), `${server}__${tool} is listed`);
      }
    }
  });

  for (const server of ['every', 'everyhttp']) {
    test(`routes a sampling request from ${server} back to the calling client`, async () => {
      const before = sampled.length;
      const result = await client.callTool({
        name: `${server}__trigger-sampling-request`,
        arguments: { prompt: `haiku from ${server}`, maxTokens: 20 },
      });
      assert.equal(sampled.length, before + 1, 'the client answered exactly one sampling request');
      assert.match(sampled.at(-1) ?? '', new RegExp(`haiku from ${server}`));
      assert.match(textOf(result), /sampled by the e2e client/);
      assert.match(textOf(result), /e2e-model/);
    });

    test(`routes an elicitation request from ${server} back to the calling client`, async () => {
      const before = elicited.length;
      const result = await client.callTool({ name: `${server}__trigger-elicitation-request`, arguments: {} });
      assert.equal(elicited.length, before + 1);
      assert.match(textOf(result), /Name: Ada Lovelace/);
      assert.match(textOf(result), /Favorite Integer: 7/);
    });
  }

  test('answers an upstream roots/list with the client roots and forwards roots/list_changed', async () => {
    const first = await client.callTool({ name: 'every__get-roots-list', arguments: {} });
    assert.match(textOf(first), /file:\/\/\/work\/first/);
    assert.ok(rootsAsked >= 1);

    roots = [{ uri: 'file:///work/second', name: 'second' }];
    const askedBefore = rootsAsked;
    await client.sendRootsListChanged();
    // server-everything re-asks for roots when told they changed; the gateway must relay both ways.
    await waitFor(() => rootsAsked > askedBefore, 5000, 'the upstream to ask for roots again');
    let text = '';
    for (let i = 0; i < 50 && !text.includes('second'); i++) {
      text = textOf(await client.callTool({ name: 'every__get-roots-list', arguments: {} }));
    }
    assert.match(text, /file:\/\/\/work\/second/);
  });

  for (const server of ['every', 'everyhttp']) {
    test(`relays progress notifications from ${server} under the client's own token`, async () => {
      const token = `progress-${server}`;
      const before = wire.length;
      const result = await client.callTool({
        name: `${server}__trigger-long-running-operation`,
        arguments: { duration: 0.5, steps: 5 },
        _meta: { progressToken: token },
      });
      assert.match(textOf(result), /Long running operation completed/);
      assert.deepEqual(progressFor(wire.slice(before), token), [
        [1, 5],
        [2, 5],
        [3, 5],
        [4, 5],
        [5, 5],
      ]);
    });
  }

  test('delivers progress to the SDK onprogress callback', async () => {
    const seen: Progress[] = [];
    await client.callTool(
      { name: 'everyhttp__trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } },
      undefined,
      { onprogress: (p) => seen.push(p) },
    );
    // The last one may race the response inside the SDK (see tapMessages); the earlier ones may not.
    assert.ok(seen.length >= 2, `got ${seen.length} progress callbacks`);
    assert.deepEqual(
      seen.slice(0, 2).map((p) => p.progress),
      [1, 2],
    );
  });

  for (const server of ['every', 'everyhttp']) {
    test(`cancels a long call to ${server} when the client aborts, and the session keeps working`, async () => {
      const abort = new AbortController();
      const started = Date.now();
      const call = client.callTool(
        { name: `${server}__trigger-long-running-operation`, arguments: { duration: 30, steps: 30 } },
        undefined,
        { signal: abort.signal },
      );
      setTimeout(() => abort.abort(new Error('user pressed stop')), 300);
      await assert.rejects(call);
      assert.ok(Date.now() - started < 5000, 'the call ended promptly');

      const echo = await client.callTool({ name: `${server}__echo`, arguments: { message: 'after cancel' } });
      assert.equal(textOf(echo), 'Echo: after cancel');
      const health = await fetch(`${gateway.url}/healthz`);
      assert.equal(health.status, 200);
      const other = await connectV1(`${gateway.url}/mcp`);
      try {
        const r = await other.client.callTool({
          name: `${server}__echo`,
          arguments: { message: 'new session' },
        });
        assert.equal(textOf(r), 'Echo: new session');
      } finally {
        await other.client.close();
      }
    });
  }

  for (const server of ['every', 'everyhttp']) {
    test(`tells the client resources/list_changed when ${server} adds a resource`, async () => {
      const before = resourceListChanged;
      const name = `note-${server}.txt`;
      const data = `data:text/plain;base64,${Buffer.from(`hello ${server}`).toString('base64')}`;
      const result = await client.callTool({
        name: `${server}__gzip-file-as-resource`,
        arguments: { name, data, outputType: 'resourceLink' },
      });
      assert.notEqual(result.isError, true, textOf(result));
      await waitFor(() => resourceListChanged > before, 5000, 'notifications/resources/list_changed');
      const { resources } = await client.listResources();
      const uri = `${server}+demo://resource/session/${name}`;
      assert.ok(
        resources.some((r) => r.uri === uri),
        `${uri} is listed after the change`,
      );
      const read = await client.readResource({ uri });
      assert.equal((read.contents[0] as { mimeType?: string }).mimeType, 'application/gzip');
    });
  }
});

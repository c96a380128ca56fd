// The data path end to end: the official v1 SDK client, through the real gateway, to four real
// upstreams — server-everything over stdio and over Streamable HTTP, server-filesystem on a temp
// folder and server-memory on a temp file. Naming, resource URIs, prompts and completions.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Gateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { connectV1, type HttpUpstream, startEverythingHttp, tempDir, textOf } from './peers.ts';

describe('data path through the gateway (v1 SDK client, four upstreams)', { concurrency: false }, () => {
  let gateway: Gateway;
  let everythingHttp: HttpUpstream;
  let files: Awaited<ReturnType<typeof tempDir>>;
  let memory: Awaited<ReturnType<typeof tempDir>>;
  let client: Client;

  before(async () => {
    everythingHttp = await startEverythingHttp();
    files = await tempDir('fs');
    memory = await tempDir('memory');
    gateway = await startTestGateway({
      upstreams: {
        every: stdio(servers.everything),
        everyhttp: { transport: 'http', url: everythingHttp.url },
        fs: stdio(servers.filesystem, [files.path]),
        mem: stdio(servers.memory, [], { MEMORY_FILE_PATH: join(memory.path, 'memory.jsonl') }),
      },
    });
    ({ client } = await connectV1(`${gateway.url}/mcp`));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await everythingHttp?.stop();
    await files?.remove();
    await memory?.remove();
  });

  test('initializes a session-era client and advertises the union of upstream capabilities', () => {
    assert.equal(client.getServerVersion()?.name, 'gatehouse');
    const caps = client.getServerCapabilities() ?? {};
    assert.ok(caps.tools, 'tools');
    assert.ok(caps.prompts, 'prompts');
    assert.ok(caps.resources, 'resources');
    assert.equal(caps.resources?.subscribe, true, 'server-everything supports resource subscriptions');
    assert.ok(caps.completions, 'completions');
    assert.ok(caps.logging, 'logging');
    assert.ok(
      client.getInstructions()?.includes('## every'),
      'instructions name the upstream they came from',
    );
  });

  test('lists every upstream tool as <server>__<tool>', async () => {
    const { tools } = await client.listTools();
    const names = new Set(tools.map((t) => t.name));
    for (const name of [
      'every__echo',
      'every__get-sum',
      'everyhttp__echo',
      'everyhttp__trigger-long-running-operation',
      'fs__read_text_file',
      'fs__write_file',
      'fs__list_allowed_directories',
      'mem__create_entities',
      'mem__read_graph',
    ]) {
      assert.ok(names.has(name), `${name} is listed`);
    }
    for (const tool of tools) {
      assert.match(tool.name, /^(every|everyhttp|fs|mem)__./, `${tool.name} carries its server prefix`);
      assert.equal(tool.inputSchema.type, 'object', `${tool.name} keeps its input schema`);
    }
    const echo = tools.find((t) => t.name === 'every__echo');
    assert.ok(echo?.inputSchema.properties?.message, 'the upstream schema passes through unchanged');
  });

  test('routes a prefixed tool call to its upstream (stdio)', async () => {
    const result = await client.callTool({ name: 'every__echo', arguments: { message: 'hello stdio' } });
    assert.equal(textOf(result), 'Echo: hello stdio');
    const sum = await client.callTool({ name: 'every__get-sum', arguments: { a: 2, b: 40 } });
    assert.match(textOf(sum), /42/);
  });

  test('routes a prefixed tool call to its upstream (Streamable HTTP)', async () => {
    const result = await client.callTool({ name: 'everyhttp__echo', arguments: { message: 'hello http' } });
    assert.equal(textOf(result), 'Echo: hello http');
  });

  test('passes structured content through unchanged', async () => {
    const result = await client.callTool({
      name: 'every__get-structured-content',
      arguments: { location: 'New York' },
    });
    assert.equal(typeof result.structuredContent, 'object');
    assert.ok('temperature' in (result.structuredContent as object));
  });

  test('writes and reads a file through server-filesystem', async () => {
    const path = join(files.path, 'note.txt');
    const write = await client.callTool({
      name: 'fs__write_file',
      arguments: { path, content: 'written through the gateway' },
    });
    assert.notEqual(write.isError, true, textOf(write));
    assert.equal(await readFile(path, 'utf8'), 'written through the gateway');
    const read = await client.callTool({ name: 'fs__read_text_file', arguments: { path } });
    assert.equal(textOf(read), 'written through the gateway');
    const outside = await client.callTool({
      name: 'fs__read_text_file',
      arguments: { path: '/etc/hostname' },
    });
    assert.equal(outside.isError, true, 'the upstream still confines access to its folder');
  });

  test('stores and reads a knowledge graph through server-memory', async () => {
    const created = await client.callTool({
      name: 'mem__create_entities',
      arguments: {
        entities: [{ name: 'Gatehouse', entityType: 'project', observations: ['an MCP gateway'] }],
      },
    });
    assert.notEqual(created.isError, true, textOf(created));
    const graph = await client.callTool({ name: 'mem__read_graph', arguments: {} });
    assert.match(textOf(graph), /Gatehouse/);
    assert.match(await readFile(join(memory.path, 'memory.jsonl'), 'utf8'), /an MCP gateway/);
  });

  test('answers a call to an unknown tool with an error, not a crash', async () => {
    const outcome = await client.callTool({ name: 'nope__missing', arguments: {} }).then(
      (r) => ({ isError: r.isError === true, code: undefined as number | undefined }),
      (e: { code?: number }) => ({ isError: true, code: e.code }),
    );
    assert.equal(outcome.isError, true);
    const still = await client.callTool({ name: 'every__echo', arguments: { message: 'alive' } });
    assert.equal(textOf(still), 'Echo: alive');
  });

  test('lists resources with <server>+ URI prefixes and reads them from the right upstream', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    const doc = 'demo://resource/static/document/features.md';
    assert.ok(uris.includes(`every+${doc}`), 'stdio upstream resource is prefixed');
    assert.ok(uris.includes(`everyhttp+${doc}`), 'HTTP upstream resource is prefixed');
    for (const uri of uris) assert.match(uri, /^(every|everyhttp|fs|mem)\+/);

    const read = await client.readResource({ uri: `everyhttp+${doc}` });
    const first = read.contents[0] as { uri: string; text?: string };
    assert.match(first.text ?? '', /Everything Server/);
  });

  test('reads a resource template instance through its prefixed template', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    const templates = resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.includes('every+demo://resource/dynamic/text/{resourceId}'));
    const read = await client.readResource({ uri: 'every+demo://resource/dynamic/text/7' });
    const first = read.contents[0] as { text?: string };
    assert.match(first.text ?? '', /7/);
  });

  test('gets a prefixed prompt from its upstream with arguments', async () => {
    const { prompts } = await client.listPrompts();
    assert.ok(prompts.some((p) => p.name === 'every__args-prompt'));
    assert.ok(prompts.some((p) => p.name === 'everyhttp__simple-prompt'));
    const prompt = await client.getPrompt({ name: 'every__args-prompt', arguments: { city: 'Lisbon' } });
    const message = prompt.messages[0]?.content as { text?: string };
    assert.match(message.text ?? '', /Lisbon/);
    const simple = await client.getPrompt({ name: 'everyhttp__simple-prompt' });
    assert.ok(simple.messages.length > 0);
  });

  test('routes completion/complete for a prefixed prompt', async () => {
    const result = await client.complete({
      ref: { type: 'ref/prompt', name: 'every__completable-prompt' },
      argument: { name: 'department', value: 'Eng' },
    });
    assert.deepEqual(result.completion.values, ['Engineering']);
    const withContext = await client.complete({
      ref: { type: 'ref/prompt', name: 'everyhttp__completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Sales' } },
    });
    assert.deepEqual(withContext.completion.values, ['David', 'Eve', 'Frank']);
  });

  test('routes completion/complete for a prefixed resource template', async () => {
    const result = await client.complete({
      ref: { type: 'ref/resource', uri: 'everyhttp+demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '12' },
    });
    assert.deepEqual(result.completion.values, ['12']);
  });

  test('forwards logging/setLevel to upstreams that log', async () => {
    await client.setLoggingLevel('warning');
  });
});

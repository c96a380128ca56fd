// What an operator relies on: the bundled quick-start config works, legacy SSE upstreams work,
// merged lists are paged, the session cap answers 503, and shutdown drains calls in flight.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.ts';
import { startGateway } from '../../src/gateway.ts';
import { servers, startTestGateway, stdio } from '../helpers/gateway.ts';
import { post } from '../helpers/mcp-http.ts';
import { childrenOf, waitFor } from '../helpers/processes.ts';
import { connectV1, freePort, textOf } from './peers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const preload = fileURLToPath(new URL('../fixtures/loopback-only.cjs', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('the bundled gatehouse.yaml fronts everything, filesystem and memory, with a read-only view', async () => {
  const text = await readFile(`${root}gatehouse.yaml`, 'utf8');
  const auditDir = await mkdtemp(join(tmpdir(), 'gatehouse-ops-audit-'));
  cleanups.push(() => rm(auditDir, { recursive: true, force: true }));
  const config = parseConfig(text, 'gatehouse.yaml', {
    ...process.env,
    GATEHOUSE_PORT: '0',
    GATEHOUSE_AUDIT_DB: join(auditDir, 'audit.db'),
    GATEHOUSE_AUDIT_SPOOL: join(auditDir, 'audit.spool'),
  });
  const cwd = process.cwd();
  process.chdir(root); // The bundled config names its servers relative to the project folder.
  const gateway = await startGateway(config, { log: () => {} }).finally(() => process.chdir(cwd));
  cleanups.push(() => gateway.close());
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const names = (await client.listTools()).tools.map((t) => t.name);
  for (const expected of ['everything__echo', 'files__list_directory', 'memory__read_graph']) {
    assert.ok(names.includes(expected), `${expected} is listed`);
  }
  const listing = await client.callTool({
    name: 'files__list_directory',
    arguments: { path: `${root}sandbox` },
  });
  assert.match(textOf(listing), /README\.md/);
  await client.close();

  const readonly = await connectV1(`${gateway.url}/mcp/readonly`);
  const visible = (await readonly.client.listTools()).tools.map((t) => t.name);
  assert.ok(visible.includes('files__read_text_file'));
  assert.ok(!visible.some((n) => n.startsWith('memory__') || n === 'files__write_file'));
  await readonly.client.close();
});

test('fronts a legacy HTTP+SSE upstream', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', preload, servers.everything, 'sse'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  assert.ok(await waitFor(() => stderr.includes('running on port'), 10_000), 'the SSE server starts');
  const gateway = await startTestGateway({
    upstreams: { old: { transport: 'sse', url: `http://127.0.0.1:${port}/sse` } },
  });
  cleanups.push(() => gateway.close());
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const result = await client.callTool({ name: 'old__echo', arguments: { message: 'over sse' } });
  assert.equal(textOf(result), 'Echo: over sse');
  await client.close();
});

test('pages merged lists with its own cursors and refuses a forged cursor', async () => {
  const gateway = await startTestGateway({
    pagination: { pageSize: 4 },
    upstreams: { everything: stdio(servers.everything), memory: stdio(servers.memory) },
  });
  cleanups.push(() => gateway.close());
  const { client } = await connectV1(`${gateway.url}/mcp`);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor });
    assert.ok(result.tools.length <= 4);
    seen.push(...result.tools.map((t) => t.name));
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  assert.equal(new Set(seen).size, seen.length, 'no tool is listed twice');
  assert.ok(seen.some((n) => n.startsWith('everything__')) && seen.some((n) => n.startsWith('memory__')));
  await assert.rejects(client.listTools({ cursor: 'forged' }), /cursor/i);
  await client.close();
});

test('answers 503 with Retry-After beyond the session cap', async () => {
  const gateway = await startTestGateway({
    sessions: { maxSessions: 1 },
    upstreams: { memory: stdio(servers.memory) },
  });
  cleanups.push(() => gateway.close());
  const first = await connectV1(`${gateway.url}/mcp`);
  const init = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'second', version: '0' } },
  };
  const refused = await post(`${gateway.url}/mcp`, init);
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  await first.transport.terminateSession();
  await first.client.close();
  const after = await post(`${gateway.url}/mcp`, init);
  assert.equal(after.status, 200, 'a session ended by DELETE frees its place');
});

test('shutdown lets a call in flight finish, refuses new work, then stops every child', async () => {
  const gateway = await startTestGateway({
    shutdown: { drainSeconds: 10 },
    upstreams: { everything: stdio(servers.everything) },
  });
  const before = childrenOf(process.pid, servers.everything).length;
  const { client } = await connectV1(`${gateway.url}/mcp`);
  assert.equal(childrenOf(process.pid, servers.everything).length, before + 1);
  const call = client.callTool({
    name: 'everything__trigger-long-running-operation',
    arguments: { duration: 1, steps: 2 },
  });
  await new Promise((r) => setTimeout(r, 200));
  const closing = gateway.close();
  const late = await fetch(`${gateway.url}/healthz`).then(
    (r) => r.status,
    () => 'refused',
  );
  assert.ok(late === 503 || late === 'refused', `new work is refused while draining (got ${late})`);
  assert.match(textOf(await call), /Long running operation completed/);
  await closing;
  assert.ok(await waitFor(() => childrenOf(process.pid, servers.everything).length === before, 8000));
});

// The log of a running `gatehouse start`: JSON lines on stderr, each with time and level; lines
// written while serving a request carry its trace id, span id, session and method; configured
// secrets never appear, even where a line would have quoted them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type RunningGateway, startGatehouse } from '../helpers/cli.ts';
import { servers } from '../helpers/gateway.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SECRET = 'unreachable-upstream-secret-42';
let dir: string;
let gateway: RunningGateway;
let lines: Record<string, unknown>[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-logs-'));
  const file = join(dir, 'gatehouse.yaml');
  await writeFile(
    file,
    JSON.stringify({
      listen: { port: 0 },
      auth: { anonymous: true },
      audit: { store: { type: 'sqlite', file: join(dir, 'audit.db') }, spoolFile: join(dir, 'audit.spool') },
      upstreams: {
        memory: { transport: 'stdio', command: process.execPath, args: [servers.memory] },
        // Nothing listens there: its connection failure is logged, and the secret in its URL must not be.
        down: { transport: 'http', url: `http://user:${SECRET}@127.0.0.1:9/mcp` },
      },
      policy: {
        rules: [
          { id: 'no-deletes', effect: 'deny', targets: { tools: ['memory__delete_*'] } },
          { id: 'rest', effect: 'allow' },
        ],
      },
    }),
  );
  gateway = await startGatehouse(file, { PATH: process.env.PATH });
  const client = new Client({ name: 'logs-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), {
      requestInit: { headers: { traceparent: `00-${TRACE}-b7ad6b7169203331-01` } },
    }),
  );
  await client
    .callTool({ name: 'memory__delete_entities', arguments: { entityNames: ['x'] } })
    .catch(() => {});
  await client.close();
  gateway.child.kill('SIGTERM');
  await once(gateway.child, 'exit');
  lines = gateway
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
});

after(() => rm(dir, { recursive: true, force: true }));

test('every line is a JSON object with time, level and message', () => {
  assert.ok(lines.length > 3);
  const plain = gateway
    .stderr()
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('{'));
  assert.deepEqual(plain, []);
  for (const line of lines) {
    assert.match(String(line.time), /^\d{4}-\d{2}-\d{2}T/);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(String(line.level)), JSON.stringify(line));
    assert.equal(typeof line.msg, 'string');
  }
  assert.ok(
    lines.some(
      (l) => l.level === 'warn' && String(l.msg).startsWith('WARNING: requests without credentials'),
    ),
  );
});

test("a line written while serving a request carries the request's trace, span, session and method", () => {
  const denied = lines.find((l) => String(l.msg).startsWith('policy denied'));
  assert.ok(denied, 'the denial was logged');
  assert.equal(denied.traceId, TRACE);
  assert.match(String(denied.spanId), /^[0-9a-f]{16}$/);
  assert.equal(denied.method, 'tools/call');
  assert.match(String(denied.session), /.+/);
});

test('no line carries a configured secret', () => {
  assert.ok(
    lines.some((l) => String(l.msg).includes('[down]')),
    'the failing upstream was logged',
  );
  assert.ok(!gateway.stderr().includes(SECRET));
});

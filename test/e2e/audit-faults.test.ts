// The audit trail under faults, with the real gateway process: killed with SIGKILL mid-traffic
// (what it answered more than a flush interval before the kill is kept), and its PostgreSQL
// store (a private server this test starts) crashed and restarted mid-traffic (every call's
// record kept exactly once, in order, the chain intact).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { openAuditStore } from '../../src/audit/open-store.ts';
import type { StoredRecord } from '../../src/audit/record.ts';
import type { StoreConfig } from '../../src/audit/schema.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { type RunningGateway, startGatehouse } from '../helpers/cli.ts';
import { servers } from '../helpers/gateway.ts';
import { type PostgresInstance, postgresUnavailable, startPostgres } from '../helpers/postgres.ts';

const FLUSH_MS = 200;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-faults-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function configFile(name: string, store: StoreConfig): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    JSON.stringify({
      listen: { port: 0 },
      auth: { anonymous: true },
      metrics: { enabled: false },
      audit: { store, spoolFile: join(dir, `${name}.spool`), flushIntervalMs: FLUSH_MS, instance: name },
      upstreams: {
        everything: { transport: 'stdio', command: process.execPath, args: [servers.everything] },
      },
    }),
  );
  return file;
}

async function connect(gateway: RunningGateway) {
  const client = new Client({ name: 'fault-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
  return client;
}

/** Every echo call's message, in store order, from the records of one instance. */
async function echoed(
  store: StoreConfig,
  instance: string,
): Promise<{ messages: string[]; records: StoredRecord[] }> {
  const opened = await openAuditStore(store);
  const records: StoredRecord[] = [];
  try {
    for await (const r of opened.chain(instance)) records.push(r);
  } finally {
    await opened.close();
  }
  const messages = records
    .filter((r) => r.method === 'tools/call')
    .map((r) => String((r.arguments as { message?: string }).message));
  return { messages, records };
}

async function stop(gateway: RunningGateway, signal: NodeJS.Signals): Promise<void> {
  if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) return;
  gateway.child.kill(signal);
  await once(gateway.child, 'exit');
}

test('after kill -9, what the gateway answered more than a flush interval earlier is kept, once', async () => {
  const store: StoreConfig = { type: 'sqlite', file: join(dir, 'kill.db') };
  const file = await configFile('killed', store);
  const gateway = await startGatehouse(file, { PATH: process.env.PATH });
  const answered: { message: string; at: number }[] = [];
  try {
    const client = await connect(gateway);
    const until = Date.now() + 1500;
    for (let i = 0; Date.now() < until; i++) {
      await client.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } });
      answered.push({ message: `m${i}`, at: Date.now() });
    }
  } finally {
    await stop(gateway, 'SIGKILL');
  }
  const killedAt = Date.now();
  // A restart replays whatever the killed process had spooled; a clean stop then flushes.
  const again = await startGatehouse(file, { PATH: process.env.PATH });
  await stop(again, 'SIGTERM');

  const { messages, records } = await echoed(store, 'killed');
  assert.equal(new Set(messages).size, messages.length, 'no record is kept twice');
  const kept = new Set(messages);
  const old = answered.filter((a) => killedAt - a.at > FLUSH_MS + 100);
  const missing = old.filter((a) => !kept.has(a.message));
  assert.deepEqual(missing, [], `answered ${answered.length}, kept ${kept.size}`);
  assert.ok(answered.length > 50, `enough traffic to matter (${answered.length} calls)`);
  assert.equal(
    (
      await verifyChain(
        (async function* () {
          yield* records;
        })(),
      )
    ).ok,
    true,
  );
});

describe('PostgreSQL store crashed and restarted mid-traffic', { skip: postgresUnavailable() }, () => {
  let pg: PostgresInstance;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.destroy());

  test('every call leaves exactly one record, in order, with the chain intact', async () => {
    const store: StoreConfig = { type: 'postgres', url: pg.url, table: 'gatehouse_audit' };
    const file = await configFile('pg', store);
    const gateway = await startGatehouse(file, { PATH: process.env.PATH });
    const sent: string[] = [];
    try {
      const client = await connect(gateway);
      const call = async (i: number) => {
        await client.callTool({ name: 'everything__echo', arguments: { message: `p${i}` } });
        sent.push(`p${i}`);
      };
      let i = 0;
      const burst = async (ms: number) => {
        const until = Date.now() + ms;
        while (Date.now() < until) await call(i++);
      };
      await burst(500);
      await pg.stop('immediate'); // A crash: connections drop, nothing can be written.
      await burst(1000);
      await pg.start();
      await burst(1000);
      await client.close();
    } finally {
      await stop(gateway, 'SIGTERM'); // Drains: the spool is replayed, the queue written.
    }
    assert.match(gateway.stderr(), /spool|store/i, 'the outage was noticed');
    const { messages, records } = await echoed(store, 'pg');
    assert.deepEqual(messages, sent, 'every call once, in order');
    assert.equal(
      (
        await verifyChain(
          (async function* () {
            yield* records;
          })(),
        )
      ).ok,
      true,
    );
  });
});

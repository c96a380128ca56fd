// Against the real PostgreSQL server on 127.0.0.1:5432 (database `test`), each test in its own
// table, dropped afterwards, so test files running in parallel never meet.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import pg from 'pg';
import { records, storeContract } from '../../test/helpers/audit-store-contract.ts';
import { openPostgresAuditStore } from './postgres-store.ts';
import { verifyChain } from './verify.ts';

const URL = process.env['GATEHOUSE_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const freshTable = () => `audit_test_${process.pid}_${randomBytes(4).toString('hex')}`;

async function sql(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

storeContract('PostgreSQL', async () => {
  const table = freshTable();
  const store = openPostgresAuditStore({ url: URL, table });
  return {
    dialect: 'postgres',
    store,
    sql: async (text, ...params) => void (await sql(text.replaceAll('{t}', `"${table}"`), params)),
    reopen: async () => openPostgresAuditStore({ url: URL, table }),
    async cleanup() {
      await store.close();
      await sql(`DROP TABLE IF EXISTS "${table}"`);
    },
  };
});

describe('PostgreSQL store failures', () => {
  const elapsed = async (work: Promise<unknown>) => {
    const start = performance.now();
    const error = await work.then(
      () => assert.fail('should reject'),
      (err: Error) => err,
    );
    return { error, ms: performance.now() - start };
  };

  test('append rejects at once when nothing listens, and the error masks the password', async () => {
    const store = openPostgresAuditStore({
      url: 'postgres://gw:pa%24%24-w0rd-91@127.0.0.1:1/test',
      table: 'audit',
    });
    const { error, ms } = await elapsed(store.append(records(1, 3)));
    await store.close();
    assert.ok(ms < 2_000, `${ms} ms`);
    assert.match(error.message, /postgres:\/\/gw:\*\*\*@127\.0\.0\.1:1\/test.*ECONNREFUSED/);
    assert.doesNotMatch(`${error.message} ${error.stack} ${JSON.stringify(error)}`, /pa\$\$-w0rd|pa%24%24/);
    assert.equal(error.cause, undefined);
  });

  test('append rejects within the connect timeout when the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const store = openPostgresAuditStore({
      url: `postgres://gw@127.0.0.1:${port}/test`,
      table: 'audit',
      connectTimeoutMs: 300,
    });
    try {
      const { error, ms } = await elapsed(store.append(records(1, 1)));
      assert.ok(ms < 1_500, `${ms} ms`);
      assert.match(error.message, /timeout/i);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      await store.close();
    }
  });

  test('append rejects within the statement timeout when the table is locked, and keeps nothing', async () => {
    const table = freshTable();
    const store = openPostgresAuditStore({ url: URL, table, statementTimeoutMs: 400 });
    const locker = new pg.Client({ connectionString: URL });
    try {
      await store.append(records(1, 2));
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
      const { error, ms } = await elapsed(store.append(records(3, 2)));
      assert.ok(ms < 2_000, `${ms} ms`);
      assert.match(error.message, /statement timeout|timeout/i);
      await locker.query('ROLLBACK');
      assert.deepEqual(
        (await store.append(records(5, 1))).map((r) => r.seq),
        [3],
      );
    } finally {
      await locker.end();
      await store.close();
      await sql(`DROP TABLE IF EXISTS "${table}"`);
    }
  });

  test('after its connections are killed, the store reconnects and the chain goes on', async () => {
    const table = freshTable();
    // Named by its URL, so only this store's connections are killed.
    const store = openPostgresAuditStore({ url: `${URL}?application_name=${table}`, table });
    try {
      await store.append(records(1, 5));
      const killed = await sql(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [table],
      );
      assert.ok((killed.rowCount ?? 0) >= 1);
      // The pool may hand out the broken connection once before it notices: that append
      // rejects, promptly; the next one reaches the server on a new connection.
      const retried = await store.append(records(6, 2)).catch(() => store.append(records(6, 2)));
      assert.deepEqual(
        retried.map((r) => r.seq),
        [6, 7],
      );
      assert.equal((await verifyChain(store.chain('gw-a'))).checked, 7);
    } finally {
      await store.close();
      await sql(`DROP TABLE IF EXISTS "${table}"`);
    }
  });
});

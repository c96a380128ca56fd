// `gatehouse audit` as an operator runs it: the real command in child processes, reading the
// store a config file names (a SQLite file here, the shared PostgreSQL server in one test).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openPostgresAuditStore } from '../../src/audit/postgres-store.ts';
import type { StoredRecord } from '../../src/audit/record.ts';
import { openSqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { records } from '../helpers/audit-store-contract.ts';
import { gatehouse } from '../helpers/cli.ts';

const UPSTREAM = 'upstreams:\n  x: { transport: stdio, command: "true" }\n';
const PG_URL = process.env['GATEHOUSE_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('gatehouse audit', () => {
  let dir: string;
  let kept: StoredRecord[];
  const env = { PATH: process.env['PATH'] };
  /** Runs in `dir`, whose gatehouse.yaml names ./audit.db. */
  const audit = (...args: string[]) => gatehouse(['audit', ...args], { cwd: dir, env });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-cli-'));
    await writeFile(
      join(dir, 'gatehouse.yaml'),
      `audit:\n  store: { type: sqlite, file: audit.db }\n${UPSTREAM}`,
    );
    const store = openSqliteAuditStore(join(dir, 'audit.db'));
    kept = [
      ...(await store.append(records(0, 40))),
      ...(await store.append(records(40, 5, { instance: 'gw-b', reason: 'a "quoted", reason' }))),
    ];
    await store.close();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('verify: exit 0 and each instance intact, with the range checked and the head hash', async () => {
    const result = await audit('verify');
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^gw-a: intact, 40 record\(s\), seq 1-40, .* from the first record; head hash [0-9a-f]{64}$/m,
    );
    assert.match(result.stdout, /^gw-b: intact, 5 record\(s\)/m);
    const only = await audit('verify', '--instance', 'gw-b');
    assert.doesNotMatch(only.stdout, /gw-a/);
  });

  test('verify: exit 1 naming the record edited in the database, and the one after a deletion', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'gatehouse-audit-cli-tamper-'));
    try {
      await copyFile(join(dir, 'gatehouse.yaml'), join(copy, 'gatehouse.yaml'));
      await copyFile(join(dir, 'audit.db'), join(copy, 'audit.db'));
      const db = new DatabaseSync(join(copy, 'audit.db'));
      db.exec(`UPDATE audit SET outcome = 'ok' WHERE instance = 'gw-a' AND seq = 8`);
      db.exec(`DELETE FROM audit WHERE instance = 'gw-b' AND seq = 3`);
      db.close();
      const result = await gatehouse(['audit', 'verify'], { cwd: copy, env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, new RegExp(`^gw-a: EDITED: seq 8 \\(id ${kept[7]!.id}\\) was edited`, 'm'));
      assert.match(
        result.stdout,
        /^gw-b: DELETED: seq 4 \(id \w+\) does not follow seq 2 .*seq 3 is missing/m,
      );
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  test('search: a table of matching records, oldest first, with a note when more match', async () => {
    const result = await audit(
      'search',
      '--agent',
      'agent-1',
      '--outcome',
      'denied',
      '--tool',
      'files_write',
    );
    assert.equal(result.code, 0, result.stderr);
    const expected = kept.filter(
      (r) => r.principal.agent === 'agent-1' && r.outcome === 'denied' && r.target === 'files_write',
    );
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^TIME\s+OUTCOME\s+METHOD\s+TARGET\s+AGENT\s+USER\s+MS\s+REASON\s+ID$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).at(-1)),
      expected.map((r) => r.id),
    );
    const limited = await audit('search', '--limit', '3');
    assert.equal(limited.stdout.trim().split('\n').length, 4);
    assert.match(limited.stderr, /more records match/);
  });

  test('search: jsonl and csv, with time range, team, trace and instance filters', async () => {
    const [from, to] = [kept[10]!.time, kept[20]!.time];
    const jsonl = await audit('search', '--from', from, '--to', to, '--team', 'team-2', '--format', 'jsonl');
    assert.equal(jsonl.code, 0, jsonl.stderr);
    assert.deepEqual(
      jsonl.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      kept.filter((r) => r.time >= from && r.time < to && r.principal.teams?.includes('team-2')),
    );
    const csv = await audit('search', '--instance', 'gw-b', '--trace', 'trace-1', '--format', 'csv');
    const rows = csv.stdout.trim().split('\r\n');
    assert.match(rows[0]!, /^time,id,instance,seq,/);
    assert.equal(
      rows.length,
      1 + kept.filter((r) => r.instance === 'gw-b' && r.traceId === 'trace-1').length,
    );
    assert.match(rows[1]!, /"a ""quoted"", reason"/);
  });

  test('export: every match to a file only its owner can read, or to stdout', async () => {
    const file = join(dir, 'out.csv');
    const result = await audit('export', '--format', 'csv', '--out', file, '--outcome', 'ok');
    assert.equal(result.code, 0, result.stderr);
    const ok = kept.filter((r) => r.outcome === 'ok');
    assert.match(result.stderr, new RegExp(`Exported ${ok.length} records to`));
    assert.equal((await readFile(file, 'utf8')).trim().split('\r\n').length, ok.length + 1);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const stdout = await audit('export', '--format', 'jsonl');
    assert.equal(stdout.stdout.trim().split('\n').length, kept.length);
  });

  test('usage errors exit 2; a missing database exits 1 without creating one', async () => {
    const cases = [
      ['search', '--outcome', 'maybe'],
      ['search', '--from', 'yesterday'],
      ['search', '--limit', '0'],
      ['export'],
      ['search', '--format', 'xml'],
      ['frobnicate'],
      ['search', '--colour'],
    ];
    const results = await Promise.all(cases.map((args) => audit(...args)));
    results.forEach((result, i) => {
      assert.equal(result.code, 2, `${cases[i]!.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /Usage:/);
    });
    const empty = await mkdtemp(join(tmpdir(), 'gatehouse-audit-cli-empty-'));
    try {
      await writeFile(
        join(empty, 'gatehouse.yaml'),
        `audit:\n  store: { type: sqlite, file: none.db }\n${UPSTREAM}`,
      );
      const result = await gatehouse(['audit', 'verify'], { cwd: empty, env });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /no audit database at none\.db/);
      await assert.rejects(stat(join(empty, 'none.db')));
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('reads the PostgreSQL store the config names, the password in it never shown', async () => {
    const table = `audit_cli_${randomBytes(4).toString('hex')}`;
    const store = openPostgresAuditStore({ url: PG_URL, table });
    const pgDir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-cli-pg-'));
    try {
      const stored = await store.append(records(0, 12));
      const url = PG_URL.replace('postgres://postgres@', 'postgres://postgres:${PG_PASSWORD}@');
      await writeFile(
        join(pgDir, 'gatehouse.yaml'),
        `audit:\n  store: { type: postgres, url: "${url}", table: ${table} }\n${UPSTREAM}`,
      );
      const run = (...args: string[]) =>
        gatehouse(['audit', ...args], { cwd: pgDir, env: { ...env, PG_PASSWORD: 'hunter2-trusted-anyway' } });
      const verified = await run('verify');
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /^gw-a: intact, 12 record\(s\)/m);
      const found = await run('search', '--agent', 'agent-2', '--format', 'jsonl');
      assert.deepEqual(
        found.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).id),
        stored.filter((r) => r.principal.agent === 'agent-2').map((r) => r.id),
      );
      await writeFile(
        join(pgDir, 'gatehouse.yaml'),
        `audit:\n  store: { type: postgres, url: "postgres://gw:\${PG_PASSWORD}@127.0.0.1:1/test", table: ${table} }\n${UPSTREAM}`,
      );
      const down = await run('verify');
      assert.equal(down.code, 1);
      assert.match(down.stderr, /postgres:\/\/gw:\*\*\*@127\.0\.0\.1:1\/test.*ECONNREFUSED/);
      assert.doesNotMatch(down.stderr + down.stdout, /hunter2/);
    } finally {
      await store.close();
      await rm(pgDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS "${table}"`);
      await client.end();
    }
  });
});

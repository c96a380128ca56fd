// The webhook sink against a real node:http receiver on loopback that fails the way receivers
// do (a 500, a 429 with Retry-After, a reset connection, a 400) and then recovers.
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually, storedRecords } from '../../../test/helpers/sink-records.ts';
import type { StoredRecord } from '../record.ts';
import type { DeadLetter } from './delivery.ts';
import { parseRetryAfter, RETRY_AFTER_CAP_MS } from './http-post.ts';
import { createSink } from './open-sinks.ts';

const SECRET = 'Bearer s3cr3t-webhook-token-ZXhhbXBsZQ';

interface Receiver {
  url: string;
  /** Records from requests answered 2xx, in arrival order. */
  accepted: StoredRecord[];
  /** Every request: when it came and its Authorization header. */
  requests: { at: number; authorization?: string }[];
  close(): Promise<void>;
}

/** A receiver that answers request n with `script[n]`, and with 200 once the script is done. */
async function receiver(script: ((res: ServerResponse, req: IncomingMessage) => void)[]): Promise<Receiver> {
  const accepted: StoredRecord[] = [];
  const requests: Receiver['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk);
    const n = requests.length;
    requests.push({ at: Date.now(), authorization: req.headers.authorization });
    const step = script[n];
    if (step) return step(res, req);
    assert.equal(req.headers['content-type'], 'application/json');
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { records: StoredRecord[] };
    accepted.push(...body.records);
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/audit?token=query-secret`,
    accepted,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const status =
  (code: number, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(code, headers).end(`{"error":"status ${code}","echo":"${SECRET}"}`);
const reset = () => (_res: ServerResponse, req: IncomingMessage) => req.socket.destroy();

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const step of cleanup) await step();
});

function webhook(
  url: string,
  deadLetterFile: string,
  limits: { maxAttempts?: number; batchSize?: number } = {},
) {
  const logs: string[] = [];
  const sink = createSink(
    {
      type: 'webhook',
      url,
      headers: { Authorization: SECRET },
      timeoutMs: 2_000,
      maxAttempts: limits.maxAttempts ?? 8,
      batchSize: limits.batchSize ?? 3,
      queueSize: 1000,
      deadLetterFile,
    },
    0,
    (line) => logs.push(line),
    { baseBackoffMs: 20, maxBackoffMs: 100 },
  );
  return { sink, logs };
}

function deadLetterPath(name: string): string {
  const path = join(tmpdir(), `gatehouse-webhook-${process.pid}-${name}`, 'dead.jsonl');
  cleanup.push(() => rm(join(path, '..'), { recursive: true, force: true }));
  return path;
}

async function deadLetters(path: string): Promise<DeadLetter[]> {
  const text = await readFile(path, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DeadLetter);
}

describe('webhook sink', () => {
  test('delivers every record once and in order through a 500, a 429 with Retry-After and a reset connection', async () => {
    const server = await receiver([status(500), status(429, { 'retry-after': '1' }), reset()]);
    cleanup.push(server.close);
    const { sink, logs } = webhook(server.url, deadLetterPath('recovers'));
    const records = storedRecords(10);
    sink.accept(records.slice(0, 4));
    sink.accept(records.slice(4));
    await eventually(() => sink.stats().delivered === 10, 'all 10 delivered');

    assert.deepEqual(
      server.accepted.map((r) => r.id),
      records.map((r) => r.id),
      'each record once, in order',
    );
    assert.deepEqual(server.accepted, records, 'records arrive as accepted');
    assert.deepEqual(sink.stats(), { delivered: 10, failed: 3, deadLettered: 0, lost: 0, queued: 0 });
    // 10 records in batches of 3: 4 batches, plus the 3 failed attempts of the first.
    assert.equal(server.requests.length, 7);
    const wait = server.requests[2]!.at - server.requests[1]!.at;
    assert.ok(wait >= 950, `Retry-After: 1 was honoured (waited ${wait} ms; backoff alone is ≤ 100 ms)`);
    assert.ok(
      server.requests.every((r) => r.authorization === SECRET),
      'configured headers are sent',
    );
    await sink.close();
    assert.equal(logs.length, 3, 'each failed attempt is logged');
    for (const line of logs) {
      assert.ok(!line.includes('s3cr3t') && !line.includes('query-secret'), `no secret in "${line}"`);
    }
    assert.match(logs[0]!, /HTTP 500/);
    assert.match(logs[1]!, /HTTP 429.*next in 1000 ms/);
    assert.match(logs[2]!, /network error/);
  });

  test('a 400 is permanent: the batch goes to the dead-letter file at once, without retries', async () => {
    const server = await receiver([status(400)]);
    cleanup.push(server.close);
    const file = deadLetterPath('refused');
    const { sink, logs } = webhook(server.url, file, { batchSize: 5 });
    const records = storedRecords(5);
    sink.accept(records);
    const more = storedRecords(2);
    sink.accept(more);
    await eventually(() => sink.stats().delivered === 2, 'the next batch delivered');
    await sink.close();

    assert.equal(server.requests.length, 2, 'one attempt for the refused batch, one for the next');
    assert.deepEqual(sink.stats(), { delivered: 2, failed: 1, deadLettered: 5, lost: 0, queued: 0 });
    const lines = await deadLetters(file);
    assert.deepEqual(
      lines.map((l) => l.record),
      records,
    );
    for (const line of lines) {
      assert.equal(line.sink, 'webhook-0');
      assert.equal(line.reason, 'refused: HTTP 400');
      assert.ok(!Number.isNaN(Date.parse(line.deadLetteredAt)));
    }
    assert.deepEqual(server.accepted, more);
    const text = await readFile(file, 'utf8');
    assert.ok(
      !text.includes('s3cr3t') && !text.includes('query-secret'),
      'no secret in the dead-letter file',
    );
    assert.ok(logs.every((line) => !line.includes('s3cr3t') && !line.includes('query-secret')));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test('after maxAttempts failed attempts the batch is dead-lettered, and the next one still goes', async () => {
    const server = await receiver([status(503), status(503), status(503)]);
    cleanup.push(server.close);
    const file = deadLetterPath('exhausted');
    const { sink } = webhook(server.url, file, { maxAttempts: 3, batchSize: 2 });
    const records = storedRecords(4);
    sink.accept(records);
    await eventually(() => sink.stats().delivered === 2, 'the second batch delivered');
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 2, failed: 3, deadLettered: 2, lost: 0, queued: 0 });
    const lines = await deadLetters(file);
    assert.deepEqual(
      lines.map((l) => l.record),
      records.slice(0, 2),
    );
    assert.equal(lines[0]!.reason, '3 attempt(s) failed, the last: HTTP 503');
    assert.deepEqual(server.accepted, records.slice(2));
  });

  test('a receiver that is not listening is retried, then dead-lettered (connection refused)', async () => {
    const server = await receiver([]);
    await server.close();
    const file = deadLetterPath('refused-connection');
    const { sink, logs } = webhook(server.url, file, { maxAttempts: 2 });
    sink.accept(storedRecords(1));
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 0, failed: 2, deadLettered: 1, lost: 0, queued: 0 });
    assert.match(logs[0]!, /network error ECONNREFUSED/);
  });

  test('Retry-After is read as seconds or an HTTP date and capped at a minute', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('5', now), 5_000);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('3600', now), RETRY_AFTER_CAP_MS);
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  test('credentials in the URL or an invalid header value are refused at creation, without the value', () => {
    const base = { type: 'webhook' as const, timeoutMs: 1000, maxAttempts: 1, batchSize: 1, queueSize: 1 };
    assert.throws(
      () => createSink({ ...base, url: 'https://user:hunter2@siem.example/', headers: {} }, 0, () => {}),
      (error: Error) => error.name === 'ConfigError' && !error.message.includes('hunter2'),
    );
    assert.throws(
      () =>
        createSink(
          { ...base, url: 'https://siem.example/', headers: { Authorization: 'Bearer x\nhunter2' } },
          0,
          () => {},
        ),
      (error: Error) =>
        error.name === 'ConfigError' &&
        /Authorization/.test(error.message) &&
        !error.message.includes('hunter2'),
    );
  });
});

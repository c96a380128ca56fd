// The delivery core's rules (bounded queue, close deadline, dead-letter file), exercised through
// the webhook sink against a real loopback receiver that can hold its answers.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, storedRecords } from '../../../test/helpers/sink-records.ts';
import type { StoredRecord } from '../record.ts';
import type { DeadLetter } from './delivery.ts';
import { createSink } from './open-sinks.ts';

let dir: string;
/** A loopback URL nobody listens on: every attempt is refused. */
let refused: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-delivery-'));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  refused = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await new Promise((resolve) => server.close(resolve));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A receiver that holds every answer until `release()` (or answers after `delayMs`). */
async function holdingReceiver(delayMs?: number) {
  const held: ServerResponse[] = [];
  const accepted: StoredRecord[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk);
    accepted.push(...(JSON.parse(Buffer.concat(chunks).toString()) as { records: StoredRecord[] }).records);
    if (delayMs === undefined) held.push(res);
    else setTimeout(() => res.writeHead(204).end(), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    held,
    accepted,
    release() {
      for (const res of held.splice(0)) res.writeHead(204).end();
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sink(
  url: string,
  file: string,
  limits: { batchSize: number; queueSize: number },
  closeTimeoutMs = 5_000,
) {
  const logs: string[] = [];
  const s = createSink(
    { type: 'webhook', url, headers: {}, timeoutMs: 30_000, maxAttempts: 3, deadLetterFile: file, ...limits },
    0,
    (line) => logs.push(line),
    { baseBackoffMs: 10, maxBackoffMs: 50, closeTimeoutMs },
  );
  return { sink: s, logs };
}

async function lines(file: string): Promise<DeadLetter[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DeadLetter);
}

describe('sink delivery', () => {
  test('a full queue dead-letters the overflow at once, never drops it; the rest is delivered', async () => {
    const receiver = await holdingReceiver();
    const file = join(dir, 'overflow.jsonl');
    const { sink: s } = sink(receiver.url, file, { batchSize: 2, queueSize: 5 });
    const records = storedRecords(7);
    s.accept(records.slice(0, 4)); // 2 in flight, 2 waiting
    assert.equal(s.stats().queued, 4);
    s.accept(records.slice(4)); // room for 1 of 3
    assert.equal(s.stats().queued, 5);
    await eventually(() => s.stats().deadLettered === 2, 'the overflow dead-lettered');
    const dead = await lines(file);
    assert.deepEqual(
      dead.map((l) => l.record),
      records.slice(5),
    );
    assert.equal(dead[0]!.reason, 'the queue is full (5 records)');

    await eventually(() => receiver.held.length === 1, 'the first batch held');
    receiver.release();
    const releasing = setInterval(() => receiver.release(), 10);
    await eventually(() => s.stats().delivered === 5, 'the queued five delivered');
    clearInterval(releasing);
    assert.deepEqual(receiver.accepted, records.slice(0, 5));
    await s.close();
    assert.deepEqual(s.stats(), { delivered: 5, failed: 0, deadLettered: 2, lost: 0, queued: 0 });
    await receiver.close();
  });

  test('close() delivers everything queued before it resolves', async () => {
    const receiver = await holdingReceiver(5);
    const { sink: s } = sink(receiver.url, join(dir, 'drain.jsonl'), { batchSize: 3, queueSize: 100 });
    const records = storedRecords(20);
    s.accept(records);
    await s.close();
    assert.deepEqual(s.stats(), { delivered: 20, failed: 0, deadLettered: 0, lost: 0, queued: 0 });
    assert.deepEqual(receiver.accepted, records);
    await receiver.close();
  });

  test('close() stops at its deadline: the batch in flight and the queue are dead-lettered, in order', async () => {
    const receiver = await holdingReceiver();
    const file = join(dir, 'deadline.jsonl');
    const { sink: s } = sink(receiver.url, file, { batchSize: 2, queueSize: 100 }, 300);
    const records = storedRecords(5);
    s.accept(records);
    const started = Date.now();
    await s.close();
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 2_000, `close took ${took} ms`);
    assert.deepEqual(s.stats(), { delivered: 0, failed: 1, deadLettered: 5, lost: 0, queued: 0 });
    const dead = await lines(file);
    assert.deepEqual(
      dead.map((l) => l.record),
      records,
    );
    assert.match(dead[0]!.reason, /^closed before delivery: the sink is closing/);
    assert.equal(dead[2]!.reason, 'closed before delivery');

    s.accept(storedRecords(1));
    await eventually(() => s.stats().deadLettered === 6, 'a record accepted after close dead-lettered');
    assert.equal((await lines(file))[5]!.reason, 'accepted after the sink was closed');
    await receiver.close();
  });

  test('the dead-letter file is created 0600 (its folder too), then appended to, never truncated', async () => {
    const file = join(dir, 'nested', 'deeper', 'dead.jsonl');
    const { sink: s } = sink(refused, file, { batchSize: 10, queueSize: 1 });
    s.accept(storedRecords(3)); // 1 queued, 2 overflow
    await s.close(); // refused: 3 attempts, then dead-lettered
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await lines(file)).length, 3);

    const existing = join(dir, 'existing.jsonl');
    await writeFile(existing, '{"kept":true}\n');
    const { sink: again } = sink(refused, existing, { batchSize: 10, queueSize: 10 });
    again.accept(storedRecords(2));
    await again.close();
    const text = await readFile(existing, 'utf8');
    assert.ok(text.startsWith('{"kept":true}\n'));
    assert.equal(text.trim().split('\n').length, 3);
  });

  test('a dead-letter file that cannot be written counts the records as lost, loudly', async () => {
    const notADirectory = join(dir, 'plain-file');
    await writeFile(notADirectory, '');
    const { sink: s, logs } = sink(refused, join(notADirectory, 'dead.jsonl'), {
      batchSize: 10,
      queueSize: 10,
    });
    s.accept(storedRecords(2));
    await s.close();
    assert.deepEqual(s.stats(), { delivered: 0, failed: 3, deadLettered: 0, lost: 2, queued: 0 });
    assert.ok(logs.some((line) => line.includes('LOST 2 record(s)')));
  });
});

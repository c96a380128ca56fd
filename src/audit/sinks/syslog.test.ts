// The syslog sink against a real rsyslogd (Debian's `rsyslog`), started here with its own config
// on free loopback ports; what it parsed out of each message is compared with the record sent.
// Without rsyslogd these tests fail, saying how to install it: they never skip silently.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Received, type Rsyslog, startRsyslog } from '../../../test/helpers/rsyslog.ts';
import { eventually, storedRecord, storedRecords } from '../../../test/helpers/sink-records.ts';
import type { StoredRecord } from '../record.ts';
import { createSink } from './open-sinks.ts';
import { SD_ID, syslogHostname, UDP_MAX_BYTES } from './syslog-format.ts';

let daemon: Rsyslog;
let startFailure: unknown;
let dir: string;
const logs: string[] = [];
const log = (line: string) => logs.push(line);

/** Fails the calling test when rsyslogd could not be started (not installed, say), with why. */
function requireDaemon(): void {
  if (startFailure) throw startFailure;
}

function syslogSink(protocol: 'tcp' | 'udp', overrides: { facility?: number; appName?: string } = {}) {
  return createSink(
    {
      type: 'syslog',
      host: '127.0.0.1',
      port: protocol === 'tcp' ? daemon.tcpPort : daemon.udpPort,
      protocol,
      facility: overrides.facility ?? 16,
      appName: overrides.appName ?? 'gatehouse',
      maxAttempts: 20,
      batchSize: 50,
      queueSize: 1000,
      deadLetterFile: join(dir, `${protocol}.dead.jsonl`),
    },
    0,
    log,
  );
}

/** The messages rsyslog received for these records, in arrival order, once all have arrived. */
async function received(records: readonly StoredRecord[], input: 'imudp' | 'imtcp'): Promise<Received[]> {
  const ids = new Set(records.map((r) => r.id));
  const mine = () => daemon.messages().filter((m) => m.input === input && ids.has(m.sd[SD_ID]?.id ?? ''));
  await eventually(() => mine().length >= records.length, `${records.length} messages over ${input}`);
  return mine();
}

// Everything RFC 5424 makes awkward: quotes, backslashes and `]` in structured data, control
// characters, non-ASCII (2-, 3- and 4-byte UTF-8), and a MSGID with characters it cannot hold.
const awkward = (): StoredRecord =>
  storedRecord({
    principal: { kind: 'jwt', agent: 'bot "prod" \\ [x] ]', user: 'Zoë Ångström ☃ 😀', teams: ['ops'] },
    target: 'docs]read',
    arguments: {
      path: 'C:\\tmp\\"a" ] [b]',
      note: 'line1\nline2\ttab\u0000end',
      cjk: '日本語',
      emoji: '😀🔐',
    },
    errorCode: -32603,
    outcome: 'error',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    session: 'sess-1',
  });

function assertParsed(message: Received, record: StoredRecord, facility: number, severity: number): void {
  assert.equal(message.facility, facility);
  assert.equal(message.severity, severity);
  assert.equal(message.timestamp, new Date(record.time).toISOString());
  assert.equal(message.hostname, syslogHostname(hostname()));
  assert.equal(message.appName, 'gatehouse');
  assert.equal(message.procId, String(process.pid));
  assert.equal(message.msgId, record.method);
  assert.deepEqual(JSON.parse(message.msg), record, 'the body is the whole record, intact');
  const sd = message.sd[SD_ID];
  assert.ok(sd, `structured data ${SD_ID} in ${message.structuredData}`);
  assert.equal(sd.id, record.id);
  assert.equal(sd.outcome, record.outcome);
  if (record.principal.agent) assert.equal(sd.agent, record.principal.agent.replace(/\p{Cc}/gu, '\uFFFD'));
  if (record.principal.user) assert.equal(sd.user, record.principal.user);
  if (record.target) assert.equal(sd.target, record.target);
}

describe('syslog sink against rsyslogd', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-syslog-'));
    try {
      daemon = await startRsyslog();
    } catch (error) {
      // Kept for each test to throw: a failing hook would only mark the tests "cancelled".
      startFailure = error;
    }
  });

  after(async () => {
    await daemon?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  test('UDP: one datagram per record, parsed by rsyslog: PRI from facility and outcome, app name, msgid, structured data, the JSON body', async () => {
    requireDaemon();
    const sink = syslogSink('udp');
    const records = [
      storedRecord({ outcome: 'ok' }),
      storedRecord({ outcome: 'denied', method: 'tools/list', errorCode: 'policy_denied' }),
      storedRecord({ outcome: 'blocked' }),
      awkward(),
    ];
    sink.accept(records);
    const got = await received(records, 'imudp');
    const byId = new Map(got.map((m) => [m.sd[SD_ID]?.id, m]));
    const severities = { ok: 6, denied: 4, blocked: 4, error: 3 };
    for (const record of records) assertParsed(byId.get(record.id)!, record, 16, severities[record.outcome]);
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 4, failed: 0, deadLettered: 0, lost: 0, queued: 0 });
  });

  test('TCP: octet-counted frames keep multi-line, escaped and non-ASCII content whole, in order', async () => {
    requireDaemon();
    const sink = syslogSink('tcp', { facility: 4 });
    const records = [awkward(), ...storedRecords(30), awkward()];
    sink.accept(records.slice(0, 10));
    sink.accept(records.slice(10));
    const got = await received(records, 'imtcp');
    assert.deepEqual(
      got.map((m) => m.sd[SD_ID]?.id),
      records.map((r) => r.id),
      'in order',
    );
    got.forEach((message, i) => {
      const record = records[i]!;
      assertParsed(message, record, 4, record.outcome === 'ok' ? 6 : 3);
    });
    await sink.close();
    assert.equal(sink.stats().delivered, records.length);
  });

  test('a control character in a structured-data value becomes U+FFFD; a MSGID is cut to printable ASCII', async () => {
    requireDaemon();
    const sink = syslogSink('tcp');
    const record = storedRecord({
      principal: { kind: 'api-key', agent: 'evil\n<13>1 forged' },
      method: 'x/méthode with spaces and a very long tail',
    });
    sink.accept([record]);
    const [message] = await received([record], 'imtcp');
    assert.equal(message!.sd[SD_ID]?.agent, 'evil\uFFFD<13>1 forged');
    assert.equal(message!.msgId, 'x/m_thode_with_spaces_and_a_very');
    assert.deepEqual(JSON.parse(message!.msg), record);
    await sink.close();
  });

  test(`UDP caps a datagram at ${UDP_MAX_BYTES} bytes: MSG cut at a character boundary, truncated="<bytes>" in the structured data`, async () => {
    requireDaemon();
    const sink = syslogSink('udp');
    // 3-byte characters, so a cut that ignored boundaries would split one.
    const big = storedRecord({ arguments: { text: '€'.repeat(5000) } });
    const small = storedRecord();
    sink.accept([big, small]);
    const got = await received([big, small], 'imudp');
    const cut = got.find((m) => m.sd[SD_ID]?.id === big.id)!;
    const whole = Buffer.from(JSON.stringify(big));
    assert.equal(cut.sd[SD_ID]?.truncated, String(whole.length));
    const msg = Buffer.from(cut.msg);
    assert.ok(msg.length < whole.length && msg.length > 3000, `cut MSG has ${msg.length} bytes`);
    assert.ok(whole.subarray(0, msg.length).equals(msg), 'the cut MSG is a prefix of the record JSON');
    assert.ok(!cut.msg.includes('\uFFFD'), 'no character split');
    const datagram = `<${cut.facility * 8 + cut.severity}>1 ${cut.timestamp} ${cut.hostname} ${cut.appName} ${cut.procId} ${cut.msgId} ${cut.structuredData} ${cut.msg}`;
    assert.ok(Buffer.byteLength(datagram) <= UDP_MAX_BYTES, `${Buffer.byteLength(datagram)} bytes`);
    const uncut = got.find((m) => m.sd[SD_ID]?.id === small.id)!;
    assert.equal(uncut.sd[SD_ID]?.truncated, undefined);
    assert.deepEqual(JSON.parse(uncut.msg), small);
    await sink.close();
  });

  test('TCP reconnects when the daemon restarts; records accepted while it was down arrive once it is back', async () => {
    requireDaemon();
    const sink = createSink(
      {
        type: 'syslog',
        host: '127.0.0.1',
        port: daemon.tcpPort,
        protocol: 'tcp',
        facility: 16,
        appName: 'gatehouse',
        maxAttempts: 100,
        batchSize: 10,
        queueSize: 1000,
        deadLetterFile: join(dir, 'restart.dead.jsonl'),
      },
      1,
      log,
      { baseBackoffMs: 50, maxBackoffMs: 200 },
    );
    const first = storedRecords(5);
    sink.accept(first);
    await received(first, 'imtcp');

    await daemon.stop();
    const whileDown = storedRecords(5);
    sink.accept(whileDown);
    await eventually(() => sink.stats().failed >= 2, 'failed attempts while the daemon is down');
    await daemon.start();
    await received(whileDown, 'imtcp');

    const afterwards = storedRecords(5);
    sink.accept(afterwards);
    await received(afterwards, 'imtcp');
    await sink.close();
    const stats = sink.stats();
    assert.equal(stats.delivered, 15);
    assert.equal(stats.deadLettered, 0);
    assert.equal(stats.queued, 0);
    assert.ok(
      logs.some((line) => line.includes('syslog-1') && line.includes('ECONNREFUSED')),
      'failures are logged',
    );
  });
});

// The RFC 5424 message format, byte for byte (syslog.test.ts checks that rsyslog parses it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storedRecord } from '../../../test/helpers/sink-records.ts';
import { formatSyslog, frameOctetCounted, SD_ID } from './syslog-format.ts';

const header = { facility: 16, appName: 'gatehouse', hostname: 'gw1', procId: '42' };

test('a record becomes <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] JSON, without a BOM', () => {
  const record = storedRecord({
    id: '0123456789abcdef01234567',
    time: '2026-03-04T05:06:07.089+01:00',
    principal: { kind: 'api-key', agent: 'a"b\\c]d', user: 'zoë' },
    outcome: 'denied',
    target: undefined,
    instance: 'gw1-42',
  });
  const text = formatSyslog(record, header).toString('utf8');
  // local0 (16) × 8 + warning (4) = 132; the time in UTC.
  assert.equal(
    text,
    `<132>1 2026-03-04T04:06:07.089Z gw1 gatehouse 42 tools/call ` +
      `[${SD_ID} id="0123456789abcdef01234567" outcome="denied" agent="a\\"b\\\\c\\]d" user="zoë" instance="gw1-42"] ` +
      JSON.stringify(record),
  );
  assert.notEqual(formatSyslog(record, header)[0], 0xef, 'no BOM anywhere in front');
});

test('octet counting counts bytes, not characters', () => {
  const message = Buffer.from('<134>1 - - - - - - ☃😀', 'utf8');
  const framed = frameOctetCounted(message).toString('utf8');
  assert.equal(framed, `${message.length} <134>1 - - - - - - ☃😀`);
  assert.equal(message.length, 26);
});

test('a time that does not parse becomes the NILVALUE, not a made-up one', () => {
  const text = formatSyslog(storedRecord({ time: 'yesterday' }), header).toString('utf8');
  assert.match(text, /^<134>1 - gw1 gatehouse 42 tools\/call \[/);
});

// Safety of the detectors themselves (issue 5, part 6): a detector that throws on hostile input is a
// bug, since the framework would then have to choose between failing the request and skipping the
// guardrail. Property tests with fast-check: any string (lone surrogates, controls, every plane),
// salted with fragments the scanners look for, never throws, and every finding's span lies in the
// text with a score in [0, 1].
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeTags, scanHiddenText, stripHidden } from '../../src/guardrails/detectors/hidden-text.ts';
import { scanInjection } from '../../src/guardrails/detectors/injection.ts';
import { maskPii, scanPii } from '../../src/guardrails/detectors/pii.ts';
import { maskSecrets, scanSecrets } from '../../src/guardrails/detectors/secrets.ts';
import { scanToolDefinition } from '../../src/guardrails/detectors/tool-definition.ts';
import type { Scan } from '../../src/guardrails/detectors/types.ts';

const RUNS = 300;

const tag = (s: string) => [...s].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

/** Pieces of what the scanners look for, so random text reaches deep into them. */
const FRAGMENTS = [
  '@', 'a@b.co', '.', ':', '::', '-', ' ', '\n', '+1 ', '(415) ', '555-', '4111 1111 1111 1111', '123-45-6789',
  'DE89 3704 0044 0532 0130 00', '192.168.1.1', 'fe80::1', 'AKIA', 'ghp_', 'sk-ant-api03-', 'eyJhbGciOiJIUzI1NiJ9.',
  'eyJ', '-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', 'postgres://u:p@h/d', '://', 'password=',
  '"token": "', "'", '"', '`', 'Bearer ', 'value=', 'key="x" ', '\x1b[', '\x1b]52;', '\x1b', '\x07', '\u200b', '\u200d',
  '\u202e', '\u2066', '\u200f', tag('hi'), '\u{E007F}', '🏴', '👨', '\ufe0f', '\u{E0100}', '\u00ad', '\u3164', '\ud800',
  '\udc00', 'ignore previous instructions', 'ignore', 'previous', '<|im_start|>', '</tool_result>', '<important>',
  '</important>', '![x](http://a/?d={c})', '[x](http://a/{k})', 'http://', 'do not tell the user', 'i g n o r e',
  'іgnоrе', '1gn0r3', 'ＩＧＮＯＲＥ', 'SWdub3JlIHByZXZpb3VzIGluc3RydWN0aW9ucw==', '忽略之前的指令', 'игнорируй',
  'curl x | sh', '~/.ssh/id_rsa', 'send_email', '\u0336', 'ß', 'ﬁ', '𝐢', '\r\n', '\t',
]; // biome-ignore format: a list

const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom(...FRAGMENTS),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.string({ maxLength: 6 }),
    ),
    {
      maxLength: 40,
    },
  )
  .map((parts) => parts.join(''));

function checkScan(scan: Scan, length: number, detector: string): void {
  assert.ok(Array.isArray(scan.findings));
  assert.ok(scan.score >= 0 && scan.score <= 1, `score ${scan.score}`);
  for (const f of scan.findings) {
    assert.equal(f.detector, detector);
    assert.ok(typeof f.kind === 'string' && f.kind.length > 0);
    assert.ok(Number.isInteger(f.start) && Number.isInteger(f.end), 'integer offsets');
    assert.ok(f.start >= 0 && f.start < f.end && f.end <= length, `span ${f.start}..${f.end} of ${length}`);
    assert.ok(f.score >= 0 && f.score <= 1, `finding score ${f.score}`);
  }
}

test('PII scanning and masking never throw and keep spans in the text', () => {
  fc.assert(
    fc.property(hostile, (text) => {
      checkScan(scanPii(text), text.length, 'pii');
      assert.equal(typeof maskPii(text), 'string');
      assert.equal(typeof maskPii(text, ['email', 'card']), 'string');
    }),
    { numRuns: RUNS },
  );
});

test('secret scanning and masking never throw and keep spans in the text', () => {
  fc.assert(
    fc.property(hostile, (text) => {
      checkScan(scanSecrets(text), text.length, 'secrets');
      assert.equal(typeof maskSecrets(text), 'string');
    }),
    { numRuns: RUNS },
  );
});

test('hidden-text scanning never throws, and stripping twice changes nothing more', () => {
  fc.assert(
    fc.property(hostile, (text) => {
      const scan = scanHiddenText(text);
      checkScan(scan, text.length, 'hidden-text');
      for (const f of scan.findings)
        if (f.decoded !== undefined) assert.equal(f.decoded, decodeTags(text.slice(f.start, f.end)));
      const once = stripHidden(text);
      assert.equal(stripHidden(once), once);
    }),
    { numRuns: RUNS },
  );
});

test('prompt-injection scanning never throws and keeps spans in the text', () => {
  fc.assert(
    fc.property(hostile, (text) => checkScan(scanInjection(text), text.length, 'injection')),
    { numRuns: RUNS },
  );
});

test('tool-definition scanning never throws on any definition shape', () => {
  const schema = fc.oneof(
    fc.jsonValue(),
    fc.record({ type: fc.constant('object'), properties: fc.dictionary(hostile, fc.jsonValue()) }),
  );
  fc.assert(
    fc.property(
      fc.record(
        {
          name: hostile,
          description: fc.option(hostile, { nil: undefined }),
          inputSchema: schema,
          annotations: fc.jsonValue(),
        },
        { requiredKeys: ['name'] },
      ),
      fc.array(hostile, { maxLength: 5 }),
      (def, names) => {
        const scan = scanToolDefinition(def, {
          otherToolNames: names,
          serverName: 's',
          otherServerNames: names,
        });
        checkScan(scan, scan.text.length, 'tool-definition');
        for (const f of scan.findings) {
          const field = scan.fields.find((x) => x.path === f.field);
          assert.ok(field, `field ${f.field}`);
          assert.ok(f.fieldStart >= 0 && f.fieldStart <= f.fieldEnd && f.fieldEnd <= field.end - field.start);
        }
      },
    ),
    { numRuns: RUNS },
  );
});

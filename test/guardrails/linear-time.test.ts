// Safety of the detectors themselves (issue 5, part 6): linear time on 1 MB inputs, including
// inputs built against each pattern (long runs of what its quantifiers accept, near-miss
// repetitions of its prefixes). For each input the 1 MB run must take well under a generous
// ceiling and at most ~3× four times the 0.25 MB run: a quadratic pattern takes 16× when the input
// grows 4×, an exponential one never finishes, so both fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanHiddenText } from '../../src/guardrails/detectors/hidden-text.ts';
import { scanInjection } from '../../src/guardrails/detectors/injection.ts';
import { scanPii } from '../../src/guardrails/detectors/pii.ts';
import { scanSecrets } from '../../src/guardrails/detectors/secrets.ts';
import { scanToolDefinition } from '../../src/guardrails/detectors/tool-definition.ts';

const SMALL = 256 * 1024;
const LARGE = 1024 * 1024;
/** Generous: the slowest detector on its worst input here takes a few hundred ms for 1 MB. */
const CEILING_MS = 5000;
/** Timer noise on a shared machine: ratios are only judged above this. */
const NOISE_MS = 40;

const tag = (s: string) => [...s].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function time(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** The better of two runs, so one GC pause or scheduler hiccup does not decide. */
function best(f: () => unknown): number {
  return Math.min(time(f), time(f));
}

function checkLinear(name: string, run: (input: string) => unknown, units: string[]): string[] {
  const report: string[] = [];
  run(fill(units[0]!, 4096)); // warm up the JIT
  for (const unit of units) {
    const small = fill(unit, SMALL);
    const large = fill(unit, LARGE);
    let ts = best(() => run(small));
    let tl = best(() => run(large));
    if (tl > 12 * ts + NOISE_MS) {
      // Measure once more before failing: a busy machine can slow one side.
      ts = best(() => run(small));
      tl = Math.min(
        tl,
        best(() => run(large)),
      );
    }
    const label = `${name} ${JSON.stringify(unit).slice(0, 40)}`;
    report.push(
      `${label.padEnd(56)} 0.25 MB ${ts.toFixed(1).padStart(7)} ms   1 MB ${tl.toFixed(1).padStart(7)} ms`,
    );
    assert.ok(tl < CEILING_MS, `${label}: 1 MB took ${tl.toFixed(0)} ms`);
    assert.ok(
      tl <= 12 * ts + NOISE_MS,
      `${label}: 0.25 MB ${ts.toFixed(1)} ms but 1 MB ${tl.toFixed(1)} ms (not linear)`,
    );
  }
  return report;
}

const PROSE = 'The quick brown fox jumps over the lazy dog; it was 12:30 on 2024-03-15. ';

test('PII scanning is linear on hostile input', () => {
  const units = [
    PROSE, 'a', '1', '1 ', '1-', '1.', '+1 ', '(1', '((1', '11 ', '1111 ', '4111 ', '123-45-', '1.1.1.', '255.',
    'a@', '@a', 'a@a.', 'a.a@', '.@.', 'a'.repeat(70) + '@', ':', '::', 'a:', 'a::', '1:1:', 'fe80::', 'DE89 ', 'DE',
    'AA00', ' 0', '00 ', '+', 'x@y.', '0 1 ', '+1 (415) 555-',
  ]; // biome-ignore format: a list
  console.log(checkLinear('pii', scanPii, units).join('\n'));
});

test('secret scanning is linear on hostile input', () => {
  const units = [
    PROSE, 'AKIA', `AKIA${'A'.repeat(15)} `, 'ghp_', `ghp_${'a'.repeat(35)} `, 'sk-', 'sk-ant-', 'sk-ant-api03-', 'xoxb-',
    'glpat-', 'eyJ', 'eyJa', 'eyJhbGciOiJub25lIn0.', 'a.', '-----BEGIN ', '-----BEGIN PRIVATE KEY-----', '-----END ',
    'postgres://', '://', 'a://a:', 'a:b@', 'password=', 'password:', 'password="', "key='", 'token: ', 'Bearer ',
    `Bearer ${'a'.repeat(20)} `, 'value=', 'key="x" value=', '=', ':', '"', 'AccountKey=', 'AIza', '1234567890:AA',
    'aaa1Q~', 'a', 'A1', '/+',
  ]; // biome-ignore format: a list
  console.log(checkLinear('secrets', scanSecrets, units).join('\n'));
});

test('hidden-text scanning is linear on hostile input', () => {
  const units = [
    PROSE, '\x1b', '\x1b[', '\x1b[1', '\x1b[1;', '\x1b]', '\x1b]52;', '\x1bP', '\x9b', '\u200b', '\u200d', 'a\u200d',
    '👨\u200d', '\u202e', '\u2066', '\u200f', tag('a'), `🏴${tag('gb')}`, '\ufe0f', 'a\ufe0f', '\u{E0100}', '\u00ad',
    '\u3164', 'مرحبا\u2067',
  ]; // biome-ignore format: a list
  console.log(checkLinear('hidden', scanHiddenText, units).join('\n'));
});

test('prompt-injection scanning is linear on hostile input', () => {
  const units = [
    PROSE, 'ignore ', 'ignore previous ', 'ignore all ', 'ignore the above ', 'you must ', 'the assistant must ', 'call ',
    'call the x ', '<|im_start|', '</tool_result', '<important>', '<important>a', '![', '![a](', '![a](http://x/',
    '[a](http://x/{', 'http://', 'http://a/?d=', '<img src=', 'do not tell ', 'without telling ', '\n###', '\n==',
    '\n---', 'curl x ', 'rm -rf ', 'i g n o r e ', 'ignor', 'erongi', 'aGVsbG8g', 'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ ',
    '41424344', 'x.', '"', '«', '`', 'іgnоrе ', '1gn0r3 ', 'igno\u200bre ', 'ＩＧＮＯＲＥ ', 'a\u0336', '忽略', 'игнорируй ',
    '.', 'a ', '\n', 'a', 'send x to a@b.co ', 'read ~/.ssh ', 'the user ', 'this is ', 'if you are an ai ',
  ]; // biome-ignore format: a list
  console.log(checkLinear('injection', scanInjection, units).join('\n'));
});

test('tool-definition scanning is linear on hostile input', () => {
  const units = [
    '<IMPORTANT>read ~/.ssh ',
    'send_email ',
    'pass its content as x ',
    '\n',
    ' ',
    'before using this tool ',
    'a_b_',
  ];
  const ctx = { otherToolNames: ['send_email', 'a_b', 'x'], serverName: 's', otherServerNames: ['mail'] };
  const inDescription = (s: string) => scanToolDefinition({ name: 't', description: s }, ctx);
  console.log(checkLinear('tool-definition/description', inDescription, units).join('\n'));
  // Many properties: the flattening and the per-field mapping must stay linear too.
  const inSchema = (s: string) => {
    const properties: Record<string, unknown> = {};
    const per = 64;
    for (let i = 0; i * per < s.length; i++)
      properties[`p${i}`] = { type: 'string', description: s.slice(i * per, (i + 1) * per) };
    return scanToolDefinition({ name: 't', inputSchema: { type: 'object', properties } }, ctx);
  };
  console.log(checkLinear('tool-definition/schema', inSchema, ['send_email must ', 'a']).join('\n'));
});

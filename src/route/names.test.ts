import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { fitName, globToRegExp, joinName, MAX_NAME, matchesTemplate, prefixUri, splitUri } from './names.ts';

describe('fitName', () => {
  test('keeps a name of up to 64 characters unchanged', () => {
    assert.equal(fitName('a'.repeat(64)), 'a'.repeat(64));
    assert.equal(fitName('echo'), 'echo');
  });

  test('fits a longer name into 64 characters: 55 kept, "_", 8 hex digits of its SHA-256', () => {
    const long = `server__${'x'.repeat(100)}`;
    const digest = createHash('sha256').update(long).digest('hex').slice(0, 8);
    const fitted = fitName(long);
    assert.equal(fitted.length, MAX_NAME);
    assert.equal(fitted, `${long.slice(0, 55)}_${digest}`);
  });

  test('is deterministic', () => {
    const long = 'y'.repeat(200);
    assert.equal(fitName(long), fitName(long));
  });

  test('keeps distinct long names with a common start distinct', () => {
    const start = 'z'.repeat(70);
    assert.notEqual(fitName(`${start}a`), fitName(`${start}b`));
    assert.equal(fitName(`${start}a`).slice(0, 55), fitName(`${start}b`).slice(0, 55));
  });

  test('fits a 65-character name', () => {
    assert.equal(fitName('q'.repeat(65)).length, 64);
  });
});

describe('joinName', () => {
  test('joins server and tool with the separator', () => {
    assert.equal(joinName('everything', 'echo', '__'), 'everything__echo');
    assert.equal(joinName('fs', 'read', '.'), 'fs.read');
  });

  test('fits the joined name, not only the tool name', () => {
    const joined = joinName('s'.repeat(32), 't'.repeat(40), '__');
    assert.equal(joined.length, 64);
    assert.equal(joined, fitName(`${'s'.repeat(32)}__${'t'.repeat(40)}`));
  });
});

describe('prefixUri / splitUri', () => {
  test('prefixes the scheme with <server>+ and splits it back', () => {
    const exposed = prefixUri('fs', 'file:///tmp/a.txt');
    assert.equal(exposed, 'fs+file:///tmp/a.txt');
    assert.deepEqual(splitUri(exposed), { server: 'fs', uri: 'file:///tmp/a.txt' });
  });

  test('round-trips URIs that contain "+" and newlines after the prefix', () => {
    for (const uri of ['demo://resource/static/1', 'a+b://x', 'mem://line\nbreak', 'urn:x:+y']) {
      assert.deepEqual(splitUri(prefixUri('srv_1-a', uri)), { server: 'srv_1-a', uri });
    }
  });

  test('gives undefined for a URI without a server prefix', () => {
    assert.equal(splitUri('file:///tmp/a.txt'), undefined);
    assert.equal(splitUri('+file:///x'), undefined);
    assert.equal(splitUri(`${'a'.repeat(33)}+x://y`), undefined);
  });
});

describe('globToRegExp', () => {
  test('"*" matches any run, including none', () => {
    const re = globToRegExp('everything__*');
    assert.ok(re.test('everything__echo'));
    assert.ok(re.test('everything__'));
    assert.ok(!re.test('memory__echo'));
  });

  test('"?" matches exactly one character', () => {
    const re = globToRegExp('t?');
    assert.ok(re.test('t1'));
    assert.ok(!re.test('t'));
    assert.ok(!re.test('t12'));
  });

  test('matches the whole name only', () => {
    assert.ok(!globToRegExp('echo').test('everything__echo'));
    assert.ok(globToRegExp('*echo').test('everything__echo'));
  });

  test('treats regular expression characters literally', () => {
    const re = globToRegExp('a.b+(c)|[d]^$\\{e}');
    assert.ok(re.test('a.b+(c)|[d]^$\\{e}'));
    assert.ok(!re.test('aXb+(c)|[d]^$\\{e}'));
  });
});

describe('matchesTemplate', () => {
  test('variables match any run and literal parts must match', () => {
    assert.ok(matchesTemplate('demo://resource/dynamic/text/{id}', 'demo://resource/dynamic/text/42'));
    assert.ok(matchesTemplate('file:///{dir}/{name}.txt', 'file:///tmp/x.txt'));
    assert.ok(!matchesTemplate('file:///{dir}/{name}.txt', 'file:///tmp/x.json'));
    assert.ok(!matchesTemplate('demo://a/{id}', 'other://a/1'));
  });

  test('treats regular expression characters in literal parts literally', () => {
    assert.ok(matchesTemplate('x://a.b?q={q}', 'x://a.b?q=1'));
    assert.ok(!matchesTemplate('x://a.b?q={q}', 'x://aXb?q=1'));
  });
});

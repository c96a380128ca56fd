import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { watchFiles } from './watch.ts';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-watch-'));
after(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (check: () => boolean, ms: number) => {
  for (const deadline = Date.now() + ms; !check() && Date.now() < deadline; ) await sleep(20);
  return check();
};

describe('watchFiles', () => {
  test('reports a file written or replaced by rename in any watched directory, and no other name', async () => {
    const config = join(root, 'a', 'gatehouse.yaml');
    const store = join(root, 'b', 'secrets.json');
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    const seen: string[] = [];
    const watch = watchFiles([config, store], (f) => seen.push(f), assert.fail, 50);
    try {
      writeFileSync(join(root, 'b', 'unrelated.tmp'), 'x');
      writeFileSync(join(root, 'b', 'secrets.json.lock'), 'x');
      writeFileSync(join(root, 'b', 'tmp'), '{}');
      renameSync(join(root, 'b', 'tmp'), store);
      assert.ok(await waitFor(() => seen.length > 0, 2000));
      await sleep(150);
      assert.ok(seen.length > 0 && seen.every((f) => f === store), `only the store: ${seen.join(', ')}`);
      writeFileSync(config, 'x');
      assert.ok(await waitFor(() => seen.length > 1, 2000));
      assert.equal(seen[1], config);
    } finally {
      watch.close();
    }
  });

  test('after update, follows only the new set of files', async () => {
    const first = join(root, 'c', 'one.json');
    const second = join(root, 'd', 'two.json');
    mkdirSync(join(root, 'c'));
    mkdirSync(join(root, 'd'));
    const seen: string[] = [];
    const watch = watchFiles([first], (f) => seen.push(f), assert.fail, 20);
    try {
      watch.update([second]);
      writeFileSync(first, 'x');
      writeFileSync(second, 'x');
      assert.ok(await waitFor(() => seen.length > 0, 2000));
      await sleep(100);
      assert.deepEqual(seen, [second]);
    } finally {
      watch.close();
    }
  });

  test('warns about a directory it cannot watch, naming the files', () => {
    const warnings: string[] = [];
    const missing = join(root, 'missing', 'secrets.json');
    const watch = watchFiles([missing], assert.fail, (line) => warnings.push(line));
    watch.close();
    assert.deepEqual(warnings, [
      `cannot watch ${join(root, 'missing')} (ENOENT); changes to ${missing} need SIGHUP`,
    ]);
  });
});

// `npm test` entry for the official conformance suite: runs test/conformance/run.ts in a child
// process (it calls process.exit and owns ports and child processes, so it stays out of the
// test runner's process) and requires exit code 0, i.e. no failure outside the baseline.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./run.ts', import.meta.url));
const BASELINE_2026 = fileURLToPath(new URL('./expected-failures.2026.yml', import.meta.url));

async function runner(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [RUNNER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

// The control: if this fails, the fixture or the CLI changed, not the gateway.
test('conformance fixture passes the suite on its own', { timeout: 120_000 }, async () => {
  const { code, output } = await runner('--direct');
  assert.equal(code, 0, output);
});

test('Gatehouse passes the conformance suite in front of the fixture', { timeout: 120_000 }, async () => {
  const { code, output } = await runner();
  assert.equal(code, 0, output);
});

// The stateless era (2026-07-28), from the alpha CLI: the fixture stays a session-era server, so
// everything this run checks beyond the 2025 behaviour (MRTR, _meta, headers, listen) is the
// gateway's. Its baseline lists only the unscored tasks extension.
//
// Some of its checks give the server a fixed time (600 ms for the first frames of a streamed
// tools/call, through the gateway to the fixture and back): on a slow machine, with another
// test file busy on the other core, a correct gateway can miss that. So a failed run is run
// again, up to three runs in all, each failure's output kept in the test's diagnostics; the last
// run must pass on its own.
test('Gatehouse passes the 2026-07-28 conformance scenarios', { timeout: 300_000 }, async (t) => {
  const run = () =>
    runner('--cli', 'conformance-alpha', '--baseline', BASELINE_2026, '--', '--requirements', '2026-07-28');
  let { code, output } = await run();
  for (let attempt = 2; code !== 0 && attempt <= 3; attempt++) {
    t.diagnostic(`run ${attempt - 1} failed (exit ${code}); running again. Its output:\n${output}`);
    ({ code, output } = await run());
  }
  assert.equal(code, 0, output);
});

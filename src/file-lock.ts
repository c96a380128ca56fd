// A writers' lock for a small file several processes rewrite (the API key file, the secret
// store): `<file>.lock`, created exclusively; a lock older than any write can take is stale
// (its holder died) and is removed. Writers are short CLI commands and admin calls, never the
// data path, so waiting is a synchronous pause.
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';

const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 30_000;

/**
 * Runs `fn` holding `<path>.lock`; waits up to 5 s for another writer. Failures are reported
 * through `fail(message, cause)`, so each store throws its own error type.
 */
export function withFileLock<T>(
  path: string,
  fn: () => T,
  fail: (message: string, cause?: unknown) => Error,
  holder = 'another process holds the lock',
): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw fail(`${lock}: cannot create the lock file (${code(err)})`, err);
      }
    }
    const held = statSync(lock, { throwIfNoEntry: false });
    if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
      removeLock(lock);
      continue;
    }
    if (Date.now() > deadline) throw fail(`${lock}: ${holder}; if none does, delete this file`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  try {
    return fn();
  } finally {
    removeLock(lock);
  }
}

function removeLock(lock: string): void {
  try {
    unlinkSync(lock);
  } catch (err) {
    // Another waiter may have removed a stale lock first; anything else is a real problem.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

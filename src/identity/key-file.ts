// The key store's file: its schema, atomic replacement, a writers' lock, and the cheap "has it
// changed?" signature readers check on every verification.
//
// Invariants: the file is only ever replaced whole by rename, so a reader sees either the old or
// the new content, never a half-written file; every version is created with mode 0600; and
// writers (CLI processes, the gateway) serialise their read-modify-write through `<file>.lock`,
// so two `keys create` run at once cannot lose each other's key.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { withFileLock as lockFile } from '../file-lock.ts';

/** The key file cannot be read, parsed or written, or an argument to the store is invalid. */
export class KeyStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyStoreError';
  }
}

/** Key names, roles and teams: printable, no spaces, so they read well in a table and a log. */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
/** The config's rule for virtual server names (src/config/schema.ts), or `/` for the root endpoint `/mcp`. */
export const VIRTUAL_SERVER_PATTERN = /^(?:[A-Za-z0-9_-]{1,32}|\/)$/;

const label = z.string().regex(LABEL_PATTERN);
const isoDate = z.iso.datetime({ offset: true });

const storedKey = z.strictObject({
  id: z.string().regex(/^[a-z2-7]{12}$/),
  name: label,
  /** base64url SHA-256 of the secret's bytes; the secret itself is never written. */
  secretSha256: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  roles: z.array(label),
  team: label.optional(),
  /** Absent: every virtual server. */
  virtualServers: z.array(z.string().regex(VIRTUAL_SERVER_PATTERN)).optional(),
  createdAt: isoDate,
  expiresAt: isoDate.optional(),
  revokedAt: isoDate.optional(),
});

const keyFile = z.strictObject({ version: z.literal(1), keys: z.array(storedKey) });

export type StoredKey = z.infer<typeof storedKey>;
export type KeyFile = z.infer<typeof keyFile>;

/** The file's contents; a missing file is an empty store (so verification fails closed). */
export function readKeyFile(path: string): KeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
    throw new KeyStoreError(`${path}: cannot read the key file (${code(err)})`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KeyStoreError(`${path}: the key file is not valid JSON`, { cause: err });
  }
  const parsed = keyFile.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || '(root)';
    throw new KeyStoreError(`${path}: the key file is invalid at ${where}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Replaces the file atomically: a 0600 temp file beside it, fsync, rename, fsync the directory. */
export function writeKeyFile(path: string, data: KeyFile): void {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {} // it may never have been created; the write error below is what matters
    throw new KeyStoreError(`${path}: cannot write the key file (${code(err)})`, { cause: err });
  }
  // Without this the rename itself may be lost on power failure (the file is then the old one).
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Identifies one version of the file without reading it. Every write is a rename of a new file,
 * so the inode changes; mtime and ctime (nanoseconds) and size cover an inode number reused by a
 * later write on a file system with coarse timestamps.
 */
export function fileSignature(path: string): string {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  return s ? `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : 'missing';
}

/** Runs `fn` holding `<path>.lock` (see file-lock.ts). */
export function withFileLock<T>(path: string, fn: () => T): T {
  return lockFile(
    path,
    fn,
    (message, cause) => new KeyStoreError(message, { cause }),
    'another process holds the key file lock',
  );
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

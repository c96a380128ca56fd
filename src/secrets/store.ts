// The encrypted local secret store: one JSON file of sealed values (src/secrets/cipher.ts), each
// bound to its name, that `gatehouse secrets` writes and `${secret:NAME}` in the config reads.
//
// Invariants: the file is only ever replaced whole by rename (a reader, such as a gateway
// reloading, sees the old or the new file, never half of one), every version is created with
// mode 0600, and writers serialise their read-modify-write through `<file>.lock`. No value,
// sealed or plain, ever appears in an error message: errors name the file and the secret.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { withFileLock } from '../file-lock.ts';
import { type MasterKey, open, seal } from './cipher.ts';

/** Names of secrets; `__proto__` is refused so that a name can never reach an object's prototype. */
export const SECRET_NAME = /^(?!__proto__$)[A-Za-z0-9_.-]{1,128}$/;

/** The store file cannot be read, parsed, decrypted or written, or a name is invalid. */
export class SecretStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretStoreError';
  }
}

const storeFile = z.strictObject({
  version: z.literal(1),
  secrets: z.record(
    z.string().regex(SECRET_NAME),
    z.strictObject({
      /** `seal(key, value, name)`: only this name opens it. */
      value: z.string().startsWith('v1.'),
      updated: z.iso.datetime({ offset: true }),
      /** 1 when created; each rotation adds one. */
      version: z.number().int().positive(),
    }),
  ),
});
type StoreFile = z.infer<typeof storeFile>;

/** What `list` shows: never a value. */
export interface SecretInfo {
  name: string;
  version: number;
  updated: string;
}

export interface SecretStore {
  readonly path: string;
  /** The value, or undefined when there is no secret of this name; throws when it will not decrypt. */
  get(name: string): string | undefined;
  /** Every secret's name, version and update time, sorted by name; checks that each decrypts. */
  list(): SecretInfo[];
  /** Creates the secret, or replaces it (a new version). */
  set(name: string, value: string): SecretInfo;
  /** Replaces an existing secret; `undefined` when there is none of this name. */
  rotate(name: string, value: string): SecretInfo | undefined;
}

/** The store in `path` (a missing file is an empty store), encrypted under `key`. */
export function secretStore(path: string, key: MasterKey, now: () => Date = () => new Date()): SecretStore {
  const decrypt = (data: StoreFile, name: string): string => {
    const value = open(key, data.secrets[name]!.value, name);
    if (value === undefined) {
      throw new SecretStoreError(
        `${path}: secret ${name} cannot be decrypted: the master key is not the one it was stored with, or the file was altered`,
      );
    }
    return value;
  };
  /** Reads the file and proves the key opens every entry, so a wrong key is never mixed in. */
  const readChecked = (): StoreFile => {
    const data = readStore(path);
    for (const name of Object.keys(data.secrets)) decrypt(data, name);
    return data;
  };
  const write = (name: string, value: string, mustExist: boolean): SecretInfo | undefined => {
    checkName(name);
    return withLock(path, () => {
      const data = readChecked();
      const current = data.secrets[name];
      if (mustExist && !current) return undefined;
      const entry = {
        value: seal(key, value, name),
        updated: now().toISOString(),
        version: (current?.version ?? 0) + 1,
      };
      writeStore(path, { version: 1, secrets: { ...data.secrets, [name]: entry } });
      return { name, version: entry.version, updated: entry.updated };
    });
  };
  return {
    path,
    get(name) {
      const data = readStore(path);
      return Object.hasOwn(data.secrets, name) ? decrypt(data, name) : undefined;
    },
    list() {
      const data = readChecked();
      return Object.entries(data.secrets)
        .map(([name, s]) => ({ name, version: s.version, updated: s.updated }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    set: (name, value) => write(name, value, false)!,
    rotate: (name, value) => write(name, value, true),
  };
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new SecretStoreError(
      `invalid secret name ${JSON.stringify(name.slice(0, 140))}: use 1-128 letters, digits, "_", "." or "-"`,
    );
  }
}

function readStore(path: string): StoreFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, secrets: {} };
    throw new SecretStoreError(`${path}: cannot read the secret store (${code(err)})`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a sealed value.
    throw new SecretStoreError(`${path}: the secret store is not valid JSON`);
  }
  const parsed = storeFile.safeParse(raw);
  if (!parsed.success) {
    // Only the path inside the file is named: zod's messages may quote the offending value.
    const where = parsed.error.issues[0]?.path.join('.') || '(root)';
    throw new SecretStoreError(`${path}: the secret store is invalid at ${where}`);
  }
  return parsed.data;
}

/** Replaces the file atomically: a 0600 temp file beside it, fsync, then rename over it. */
function writeStore(path: string, data: StoreFile): void {
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
    } catch {}
    throw new SecretStoreError(`${path}: cannot write the secret store (${code(err)})`, { cause: err });
  }
}

function withLock<T>(path: string, fn: () => T): T {
  return withFileLock(
    path,
    fn,
    (message, cause) => new SecretStoreError(message, { cause }),
    'another process is writing the secret store',
  );
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

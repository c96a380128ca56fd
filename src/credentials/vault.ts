// Where each user's upstream tokens are kept: one file, every entry sealed with AES-256-GCM under
// the master key and bound to its own key (user + upstream), so an entry copied to another user
// does not open. Entries are filed under a keyed hash of that key: the file does not say who
// authorized what. Writes are atomic (temp file + rename) and serialized.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { type MasterKey, open, seal } from '../secrets/cipher.ts';
import type { TokenSet } from './auth-server.ts';

export interface TokenVault {
  get(key: string): TokenSet | undefined;
  put(key: string, tokens: TokenSet): Promise<void>;
  delete(key: string): Promise<void>;
}

interface VaultFile {
  version: 1;
  tokens: Record<string, string>;
}

export function openFileVault(file: string, masterKey: MasterKey, log: (line: string) => void): TokenVault {
  const sealed = new Map(Object.entries(read(file).tokens));
  let writing = Promise.resolve();
  const slot = (key: string) => createHmac('sha256', masterKey).update(key).digest('base64url');
  const save = () => {
    const content: VaultFile = { version: 1, tokens: Object.fromEntries(sealed) };
    const text = `${JSON.stringify(content)}\n`;
    writing = writing.then(async () => {
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, file);
    });
    // A failed write is reported, and the next one tries again with everything in memory.
    return writing.catch((err: unknown) => {
      log(`user token vault ${file}: write failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      writing = Promise.resolve();
    });
  };
  return {
    get(key) {
      const entry = sealed.get(slot(key));
      if (entry === undefined) return undefined;
      const text = open(masterKey, entry, key);
      if (text === undefined) {
        log(`user token vault ${file}: an entry does not open with this master key; treated as absent`);
        return undefined;
      }
      return JSON.parse(text) as TokenSet;
    },
    put(key, tokens) {
      sealed.set(slot(key), seal(masterKey, JSON.stringify(tokens), key));
      return save();
    },
    delete(key) {
      if (!sealed.delete(slot(key))) return Promise.resolve();
      return save();
    },
  };
}

function read(file: string): VaultFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, tokens: {} };
    throw new ConfigError(
      `${file}: cannot read the user token vault (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  try {
    const parsed = JSON.parse(text) as VaultFile;
    if (parsed.version === 1 && parsed.tokens && typeof parsed.tokens === 'object') return parsed;
  } catch {}
  throw new ConfigError(`${file}: not a Gatehouse user token vault (version 1)`);
}

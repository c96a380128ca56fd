// API keys for agents, kept in one JSON file (see key-file.ts for how the file is written).
//
// The gateway calls `verify` on every request; `create`, `list` and `revoke` are for the CLI and
// the admin API. All of it is synchronous: verification is a stat (plus a re-read when another
// process changed the file), which costs microseconds, and a synchronous store cannot interleave
// a request with a half-applied reload.
import { timingSafeEqual } from 'node:crypto';
import {
  fileSignature,
  KeyStoreError,
  LABEL_PATTERN,
  readKeyFile,
  type StoredKey,
  VIRTUAL_SERVER_PATTERN,
  withFileLock,
  writeKeyFile,
} from './key-file.ts';
import { formatKey, hashSecret, KEY_ID_PATTERN, newKeyId, newSecret, parseKey } from './key-format.ts';
import type { Principal } from './principal.ts';

export { KeyStoreError } from './key-file.ts';

export interface KeyStoreOptions {
  /** The JSON file; created (mode 0600) by the first `create`. */
  path: string;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
}

export interface NewKey {
  name: string;
  roles?: string[];
  team?: string;
  /** The virtual servers the key may use (`/` is the root endpoint `/mcp`); omitted means all. */
  virtualServers?: string[];
  expiresAt?: Date;
}

/** What may be shown about a key: never its secret or the secret's hash. */
export interface KeyInfo {
  id: string;
  name: string;
  roles: string[];
  team?: string;
  virtualServers?: string[];
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  status: 'active' | 'revoked' | 'expired';
}

export type VerifyFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'mismatch';

/** `keyId` on a failure is for the audit record; it is set once the key parsed. */
export type VerifyResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: VerifyFailure; keyId?: string };

export type RevokeResult =
  | { ok: true; key: KeyInfo; alreadyRevoked: boolean }
  | { ok: false; reason: 'not-found' }
  | { ok: false; reason: 'ambiguous'; matches: KeyInfo[] };

export interface KeyStore {
  /** Adds a key and returns it in full: the only time the secret exists outside the caller. */
  create(input: NewKey): { key: string; info: KeyInfo };
  verify(presented: unknown): VerifyResult;
  list(): KeyInfo[];
  /** By key id, or by name when exactly one key of that name is not yet revoked. */
  revoke(keyIdOrName: string): RevokeResult;
}

interface Entry {
  stored: StoredKey;
  hash: Buffer;
  expiresMs: number | undefined;
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const { path } = options;
  if (typeof path !== 'string' || path === '') throw new TypeError('createKeyStore: path is required');
  const now = options.now ?? Date.now;
  let signature: string | undefined;
  let byId = new Map<string, Entry>();

  // Re-read only when the file is another version than the one in memory: this is how a
  // `gatehouse keys revoke` in another process reaches a running gateway. The signature is taken
  // before the read, so a write that lands in between is seen by the next call.
  const refresh = () => {
    const current = fileSignature(path);
    if (current === signature) return;
    const next = new Map<string, Entry>();
    for (const stored of readKeyFile(path).keys) {
      next.set(stored.id, {
        stored,
        hash: Buffer.from(stored.secretSha256, 'base64url'),
        expiresMs: stored.expiresAt === undefined ? undefined : Date.parse(stored.expiresAt),
      });
    }
    byId = next;
    signature = current;
  };

  const status = (stored: StoredKey): KeyInfo['status'] => {
    if (stored.revokedAt !== undefined) return 'revoked';
    if (stored.expiresAt !== undefined && now() >= Date.parse(stored.expiresAt)) return 'expired';
    return 'active';
  };

  const info = (stored: StoredKey): KeyInfo => {
    // Copies, so a caller cannot change the store's snapshot through what it was given.
    const { secretSha256: _hash, roles, virtualServers, ...shown } = stored;
    return {
      ...shown,
      roles: [...roles],
      ...(virtualServers === undefined ? {} : { virtualServers: [...virtualServers] }),
      status: status(stored),
    };
  };

  return {
    create(input) {
      const stored = validate(input, now());
      const secret = newSecret();
      stored.secretSha256 = hashSecret(secret).toString('base64url');
      withFileLock(path, () => {
        const file = readKeyFile(path);
        const taken = new Set(file.keys.map((k) => k.id));
        // 60 random bits make a collision very unlikely; checking makes it impossible.
        while (taken.has(stored.id)) stored.id = newKeyId();
        file.keys.push(stored);
        writeKeyFile(path, file);
      });
      return { key: formatKey(stored.id, secret), info: info(stored) };
    },

    verify(presented) {
      const parsed = parseKey(presented);
      if (!parsed) return { ok: false, reason: 'malformed' };
      refresh();
      const entry = byId.get(parsed.id);
      // Returning early here tells a caller whether an id exists; ids are not secret (they are
      // listed and logged), so this leaks nothing a key holder could not already see.
      if (!entry) return { ok: false, reason: 'unknown', keyId: parsed.id };
      // The secret is checked before revocation and expiry, so someone holding only an id
      // cannot learn a key's state.
      if (!timingSafeEqual(hashSecret(parsed.secret), entry.hash)) {
        return { ok: false, reason: 'mismatch', keyId: parsed.id };
      }
      const { stored } = entry;
      if (stored.revokedAt !== undefined) return { ok: false, reason: 'revoked', keyId: parsed.id };
      if (entry.expiresMs !== undefined && now() >= entry.expiresMs) {
        return { ok: false, reason: 'expired', keyId: parsed.id };
      }
      // A fresh object each time: callers may keep or change it without touching the store.
      const principal: Principal = {
        kind: 'api-key',
        agent: stored.name,
        roles: [...stored.roles],
        groups: [],
        teams: stored.team === undefined ? [] : [stored.team],
        keyId: stored.id,
      };
      if (stored.virtualServers !== undefined) principal.virtualServers = [...stored.virtualServers];
      return { ok: true, principal };
    },

    list() {
      refresh();
      return [...byId.values()].map((e) => info(e.stored));
    },

    revoke(keyIdOrName) {
      return withFileLock(path, (): RevokeResult => {
        const file = readKeyFile(path);
        const withId = KEY_ID_PATTERN.test(keyIdOrName)
          ? file.keys.find((k) => k.id === keyIdOrName)
          : undefined;
        const byName = file.keys.filter((k) => k.name === keyIdOrName);
        // A name shared by a revoked key and its replacement (rotation) means the live one.
        const live = byName.filter((k) => k.revokedAt === undefined);
        if (!withId && live.length > 1) return { ok: false, reason: 'ambiguous', matches: live.map(info) };
        const target = withId ?? live[0] ?? byName.at(-1);
        if (!target) return { ok: false, reason: 'not-found' };
        if (target.revokedAt !== undefined) return { ok: true, key: info(target), alreadyRevoked: true };
        target.revokedAt = new Date(now()).toISOString();
        writeKeyFile(path, file);
        return { ok: true, key: info(target), alreadyRevoked: false };
      });
    },
  };
}

/** A new record from the caller's input, or a KeyStoreError naming what is wrong. */
function validate(input: NewKey, nowMs: number): StoredKey {
  const label = (what: string, value: unknown) => {
    if (typeof value !== 'string' || !LABEL_PATTERN.test(value)) {
      throw new KeyStoreError(
        `${what} ${JSON.stringify(value)}: use 1-64 letters, digits, "_", ".", ":", "@" or "-", starting with a letter or digit`,
      );
    }
    return value;
  };
  const stored: StoredKey = {
    id: newKeyId(),
    name: label('name', input.name),
    secretSha256: '',
    roles: [...new Set((input.roles ?? []).map((r) => label('role', r)))],
    createdAt: new Date(nowMs).toISOString(),
  };
  if (input.team !== undefined) stored.team = label('team', input.team);
  if (input.virtualServers !== undefined) {
    for (const v of input.virtualServers) {
      if (!VIRTUAL_SERVER_PATTERN.test(v)) {
        throw new KeyStoreError(
          `virtual server ${JSON.stringify(v)}: use 1-32 letters, digits, "_" or "-", or "/" for /mcp`,
        );
      }
    }
    stored.virtualServers = [...new Set(input.virtualServers)];
  }
  if (input.expiresAt !== undefined) {
    const at = input.expiresAt.getTime();
    if (Number.isNaN(at)) throw new KeyStoreError('expiry: not a valid date');
    if (at <= nowMs) throw new KeyStoreError(`expiry ${input.expiresAt.toISOString()} is not in the future`);
    stored.expiresAt = input.expiresAt.toISOString();
  }
  return stored;
}

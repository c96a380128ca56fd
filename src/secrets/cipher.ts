// Authenticated encryption for secrets at rest: AES-256-GCM under one master key. A sealed value
// is self-describing text, `v1.<iv>.<tag>.<ciphertext>` (base64url), so it can sit in JSON and a
// later format can be told apart by its first field.
//
// Invariants: every seal draws a fresh random 12-byte IV (never reused under one key); the
// `context` (e.g. the secret's name) is authenticated as AAD, so a sealed value copied under
// another name does not open; and nothing here ever puts a key or a plaintext into an error.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';

/** A 32-byte AES-256-GCM key. */
export type MasterKey = Buffer;

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts with a fresh random 12-byte IV; returns a self-describing text
 * `v1.<iv b64url>.<tag b64url>.<ciphertext b64url>`. `context` is bound as AAD (e.g. the
 * secret's name) so a value cannot be moved to another name.
 */
export function seal(key: MasterKey, plaintext: string, context: string): string {
  if (key.length !== KEY_BYTES) throw new TypeError(`the master key must be ${KEY_BYTES} bytes`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/**
 * Decrypts; returns undefined when the text was tampered with, the key is wrong or the context
 * differs (never throws for bad input).
 */
export function open(key: MasterKey, sealed: string, context: string): string | undefined {
  if (key.length !== KEY_BYTES || typeof sealed !== 'string') return undefined;
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
  const [iv, tag, ciphertext] = parts.slice(1).map(strictBase64url);
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || !ciphertext) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // final() throws exactly when authentication fails: a wrong key, context or altered bytes.
    return undefined;
  }
}

/** Buffer.from ignores characters outside the alphabet; a sealed value must be canonical. */
function strictBase64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/**
 * Reads the master key: from env var `env` or file `file` (exactly one), given as 64 hex chars
 * or 44-char base64 (32 bytes); throws a ConfigError naming the variable/file — never the value —
 * when missing or malformed.
 */
export function loadMasterKey(
  source: { env?: string; file?: string },
  envVars: NodeJS.ProcessEnv = process.env,
): MasterKey {
  if ((source.env === undefined) === (source.file === undefined)) {
    throw new ConfigError('the master key comes from exactly one of an environment variable or a file');
  }
  let text: string;
  let where: string;
  if (source.env !== undefined) {
    where = `environment variable ${source.env}`;
    const value = envVars[source.env];
    if (!value) throw new ConfigError(`master key: ${where} is not set`);
    text = value;
  } else {
    where = `file ${source.file}`;
    try {
      text = readFileSync(source.file!, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError(`master key: cannot read ${where} (${code})`);
    }
  }
  const key = parseKey(text.trim());
  if (!key) {
    throw new ConfigError(
      `master key: ${where} does not hold a 32-byte key (64 hex characters or 44 base64 characters); create one with gatehouse secrets new-key`,
    );
  }
  return key;
}

function parseKey(text: string): MasterKey | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    return key.length === KEY_BYTES ? key : undefined;
  }
  return undefined;
}

/** A fresh random master key, as 64 hex characters. */
export function newMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('hex');
}

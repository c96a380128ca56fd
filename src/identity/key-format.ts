// The API key format, `gh_<keyId>_<secret>`, and the only code that parses it.
//
// - keyId: 12 characters of lowercase base32 (a-z, 2-7), 60 random bits. Not secret: it is how
//   a key is found, listed, logged and revoked. Base32 rather than base64url because base64url's
//   `_` and `-` would make the `_` separator ambiguous, and a case-insensitive id is easier to
//   read out and type when revoking.
// - secret: 32 random bytes, base64url without padding (always 43 characters).
//
// Parsing is strict on purpose: one exact length, one alphabet, the canonical base64url encoding
// only. Anything else (whitespace, padding, truncation, look-alike Unicode letters, a different
// encoding of the same bytes) is `malformed` before it reaches a lookup, so there is exactly one
// spelling of every key and nothing downstream has to normalise input.
import { createHash, randomBytes } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
const SECRET_LENGTH = 43; // ceil(32 * 8 / 6), no padding
export const KEY_LENGTH = 'gh_'.length + ID_LENGTH + 1 + SECRET_LENGTH;
const KEY_PATTERN = /^gh_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
export const KEY_ID_PATTERN = /^[a-z2-7]{12}$/;

export interface ParsedKey {
  id: string;
  secret: Buffer;
}

export function newKeyId(): string {
  // 256 is a multiple of 32, so `byte & 31` picks every letter with the same probability.
  let id = '';
  for (const byte of randomBytes(ID_LENGTH)) id += ID_ALPHABET[byte & 31];
  return id;
}

export function newSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

export function formatKey(id: string, secret: Buffer): string {
  return `gh_${id}_${secret.toString('base64url')}`;
}

/** The key's parts, or undefined when the input is not exactly a well-formed key. */
export function parseKey(presented: unknown): ParsedKey | undefined {
  // The length check comes first so that a huge header costs nothing to reject.
  if (typeof presented !== 'string' || presented.length !== KEY_LENGTH) return undefined;
  const match = KEY_PATTERN.exec(presented);
  if (!match) return undefined;
  const [, id, encoded] = match as unknown as [string, string, string];
  const secret = Buffer.from(encoded, 'base64url');
  // The last of 43 characters carries 2 unused bits, so four spellings decode to the same bytes;
  // only the one we issued is accepted.
  if (secret.length !== SECRET_BYTES || secret.toString('base64url') !== encoded) return undefined;
  return { id, secret };
}

/**
 * What the store keeps instead of the secret. A single unsalted SHA-256 is enough here, unlike
 * for passwords: the secret is 256 bits from a CSPRNG, so there is no dictionary to try and no
 * brute force that a slow hash (bcrypt, scrypt) would make meaningfully slower; what matters is
 * that a leaked key file does not contain usable keys. A fast hash also keeps verification cheap
 * on every request.
 */
export function hashSecret(secret: Buffer): Buffer {
  return createHash('sha256').update(secret).digest();
}

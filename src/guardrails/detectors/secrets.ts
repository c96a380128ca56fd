// Credentials in text: provider tokens by prefix (secret-rules.ts), PEM private keys, JWTs,
// passwords in URLs, and secret-looking values of secret-named keys (secrets-kv.ts).
// Scores are the confidence that the span is a live credential; the detector score is the max.
import { isAlnum, isBase64, isBase64Url, isSpace } from './chars.ts';
import { AWS_SECRET_NEAR, TOKEN_RULES, TOKEN_TRIGGER } from './secret-rules.ts';
import { looksRandom, scanKeyValues } from './secrets-kv.ts';
import { dropOverlaps, eachMatch, kindLabel, maskSpans, maxScore } from './spans.ts';
import type { Finding, Scan } from './types.ts';

/** Every finding scanSecrets returns is at or above this. */
export const SECRETS_THRESHOLD = 0.5;

export function scanSecrets(text: string): Scan {
  const found: Finding[] = [];
  scanTokens(text, found);
  scanPem(text, found);
  scanJwts(text, found);
  scanUrlCredentials(text, found);
  scanKeyValues(text, found);
  scanBearer(text, found);
  const findings = dropOverlaps(found);
  return { findings, score: maxScore(findings) };
}

/** The text with each secret (of `kinds`, default all) replaced by `[GITHUB-TOKEN]`, `[PRIVATE-KEY]`, …. */
export function maskSecrets(text: string, kinds?: readonly string[]): string {
  const { findings } = scanSecrets(text);
  const chosen = kinds ? findings.filter((f) => kinds.includes(f.kind)) : findings;
  return maskSpans(text, chosen, kindLabel);
}

function push(out: Finding[], kind: string, start: number, end: number, score: number): void {
  out.push({ detector: 'secrets', kind, start, end, score });
}

function scanTokens(text: string, out: Finding[]): void {
  if (!TOKEN_TRIGGER.test(text)) return;
  for (const r of TOKEN_RULES) {
    eachMatch(r.pattern, text, (m) => {
      let token = m[0];
      // A trailing '.' or '-' is the sentence's, not the token's.
      while (token.endsWith('.') || token.endsWith('-')) token = token.slice(0, -1);
      const factor = r.judge ? r.judge(token) : 1;
      if (factor <= 0) return;
      push(out, r.kind, m.index, m.index + token.length, r.score * factor);
      if (r.kind === 'aws-access-key') awsSecretNear(text, m.index + token.length, out);
    });
  }
}

/** An AWS secret key has no prefix; a 40-character random value just after a key id is one. */
function awsSecretNear(text: string, from: number, out: Finding[]): void {
  const window = text.slice(from, from + 300);
  AWS_SECRET_NEAR.lastIndex = 0;
  for (const m of window.matchAll(AWS_SECRET_NEAR)) {
    if (looksRandom(m[0], 40) && !m[0].includes('EXAMPLEKEY')) {
      push(out, 'aws-secret-key', from + m.index, from + m.index + 40, 0.85);
    }
  }
}

// ---- PEM private keys -----------------------------------------------------------------------

const PEM_BEGIN = '-----BEGIN ';

function scanPem(text: string, out: Finding[]): void {
  let at = text.indexOf(PEM_BEGIN);
  // Position of the next END marker, found once and reused, so many BEGINs never rescan the text.
  let nextEnd = -2;
  while (at !== -1) {
    const labelStart = at + PEM_BEGIN.length;
    const dashes = text.indexOf('-----', labelStart);
    const label = dashes !== -1 && dashes - labelStart <= 40 ? text.slice(labelStart, dashes) : '';
    if (!/PRIVATE KEY(?: BLOCK)?$/.test(label)) {
      at = text.indexOf(PEM_BEGIN, labelStart);
      continue;
    }
    const bodyStart = dashes + 5;
    if (nextEnd !== -1 && nextEnd < bodyStart) nextEnd = text.indexOf('-----END ', bodyStart);
    let end: number;
    const nextBegin = text.indexOf(PEM_BEGIN, bodyStart);
    if (nextEnd !== -1 && (nextBegin === -1 || nextEnd < nextBegin)) {
      const close = text.indexOf('-----', nextEnd + 9);
      end = close !== -1 && close - nextEnd < 60 ? close + 5 : nextEnd + 9;
    } else {
      // No END marker: the key runs as far as its base64 body (and escaped newlines) go.
      end = bodyStart;
      while (end < text.length && end - bodyStart < 16384) {
        const c = text.charCodeAt(end);
        if (isBase64(c) || c === 61 || isSpace(c) || c === 92 || c === 58 || c === 45 || c === 44) end++;
        else break;
      }
    }
    push(out, 'private-key', at, end, 0.99);
    at = nextBegin === -1 || nextBegin >= end ? nextBegin : text.indexOf(PEM_BEGIN, end);
  }
}

// ---- JWT ------------------------------------------------------------------------------------

function readB64Url(text: string, from: number, max: number): number {
  let p = from;
  while (p < text.length && p - from < max && isBase64Url(text.charCodeAt(p))) p++;
  return p;
}

function scanJwts(text: string, out: Finding[]): void {
  let at = text.indexOf('eyJ');
  while (at !== -1) {
    let next = at + 3;
    if (at === 0 || !isBase64Url(text.charCodeAt(at - 1))) {
      const h = readB64Url(text, at, 4096);
      if (text.charCodeAt(h) === 46) {
        const p = readB64Url(text, h + 1, 65536);
        if (p - h - 1 >= 2 && text.charCodeAt(p) === 46) {
          const s = readB64Url(text, p + 1, 8192);
          const header = decodeJson(text.slice(at, h));
          const alg = header && typeof header['alg'] === 'string' ? header['alg'] : undefined;
          if (alg !== undefined && !isBase64Url(text.charCodeAt(s))) {
            const signed = s - p - 1 >= 16;
            if (signed || alg.toLowerCase() === 'none') push(out, 'jwt', at, s, signed ? 0.9 : 0.7);
          }
          next = s;
        } else next = p;
      } else next = h;
    }
    at = text.indexOf('eyJ', Math.max(next, at + 3));
  }
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  const raw = Buffer.from(segment, 'base64url').toString('utf8');
  if (!raw.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON: not a JWT header
  }
}

// ---- passwords in URLs ----------------------------------------------------------------------

const DB_SCHEMES =
  /^(?:postgres|postgresql|mysql|mariadb|mongodb|mongodb\+srv|redis|rediss|amqp|amqps|mssql|sqlserver|oracle|clickhouse|cockroachdb|couchdb|cassandra|neo4j|neo4j\+s|bolt|jdbc:[a-z]+|snowflake|memcached|nats|kafka)$/i;
const URL_STOP = ' \t\r\n/?#"\'<>`()[]{}|\\';

function scanUrlCredentials(text: string, out: Finding[]): void {
  let at = text.indexOf('://');
  while (at !== -1) {
    let s = at;
    while (s > 0 && at - s < 24 && (isAlnum(text.charCodeAt(s - 1)) || '+.-:'.includes(text[s - 1]!))) s--;
    const scheme = text.slice(s, at);
    let p = at + 3;
    let colon = -1;
    let atSign = -1;
    while (p < text.length && p - at < 300 && !URL_STOP.includes(text[p]!)) {
      const c = text.charCodeAt(p);
      if (c === 58 && colon === -1 && atSign === -1) colon = p;
      if (c === 64) atSign = p;
      p++;
    }
    if (scheme.length > 0 && colon !== -1 && atSign > colon + 1) {
      const password = text.slice(colon + 1, atSign);
      if (!isUrlPlaceholder(password)) {
        const db = DB_SCHEMES.test(scheme);
        push(out, db ? 'db-url' : 'url-credentials', colon + 1, atSign, db ? 0.9 : 0.8);
      }
    }
    at = text.indexOf('://', Math.max(at + 3, p));
  }
}

function isUrlPlaceholder(pw: string): boolean {
  if (/^(?:password|pass|passwd|pwd|secret|pw|x+|\*+|\.+|-+|_+)$/i.test(pw)) return true;
  if (/^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{[^}]*\}\}|<[^>]*>|%[A-Za-z_]+%?|\[[^\]]*\])$/.test(pw))
    return true;
  return /your|example|changeme|placeholder|redacted/i.test(pw);
}

// ---- bearer tokens outside a header line ---------------------------------------------------

const BEARER = /(?<![A-Za-z0-9_])[Bb]earer[ \t]+([A-Za-z0-9._~+/-]{20,2048}=*)/g;

function scanBearer(text: string, out: Finding[]): void {
  eachMatch(BEARER, text, (m) => {
    const token = m[1]!;
    if (!looksRandom(token.replace(/[._~+/=-]/g, ''), 16)) return;
    const start = m.index + m[0].length - token.length;
    push(out, 'bearer-token', start, start + token.length, 0.8);
  });
}

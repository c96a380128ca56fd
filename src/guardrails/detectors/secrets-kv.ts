// Secrets with no telling prefix, found by where they stand: the value of a key that names a
// secret (`password=…`, `"api_key": "…"`, `X-Api-Key: …`, `export GITHUB_TOKEN=…`). A value counts
// when it looks random (length, Shannon entropy, mixed characters) or, for password keys, when it
// looks like a password rather than a type name, a placeholder or a reference to somewhere else.
//
// One left-to-right pass over the separators. The key is read backwards at most MAX_KEY
// characters; the value forwards at most MAX_VALUE, and the pass resumes after a value it read, so
// every character is read a bounded number of times.
import { entropy, isAlnum, isDigit, isLower, isSpace, isUpper } from './chars.ts';
import type { Finding } from './types.ts';

const MAX_KEY = 64;
const MAX_VALUE = 512;

const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'secrets', 'token', 'apikey', 'auth',
  'authtoken', 'authorization', 'credential', 'credentials', 'bearer', 'privatekey', 'accesskey',
  'secretkey', 'clientsecret', 'sas', 'cookie', 'sessionid', 'pat', 'webhooksecret', 'signingkey',
  'accesstoken', 'refreshtoken', 'idtoken', 'apitoken', 'authkey', 'masterkey', 'encryptionkey',
]); // biome-ignore format: a word list

const PASSWORD_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase']);

/** Last key segments that make the value something about a secret rather than the secret. */
const NOT_SECRET_TAIL = new Set(
  (
    'hash digest id type name names length len size url uri endpoint file path env var field header param ' +
    'prefix format expiry expires expiration ttl count max min policy enabled required label hint ' +
    'placeholder description pattern regex rotation version algorithm alg kind mode location store ' +
    'provider source ref usage limit timeout exp issuer audience scope scopes strength manager reset ' +
    'confirmation confirm changed updated created at date time mask masked visible field fields option ' +
    'options chars characters policy rules rule error errors message prompt key_id keyid'
  ).split(' '),
);

/** Values that are a type, a flag or a placeholder, never a secret. */
const PLACEHOLDER_VALUES = new Set(
  (
    'string str text required optional none null nil true false undefined password secret token hidden ' +
    'masked redacted changeme change_me replace_me todo tbd your_password your_token your_api_key ' +
    'mypassword password123 secret123 example sample dummy test testing value bearer basic integer ' +
    'boolean object array number any env'
  ).split(' '),
);

const PLACEHOLDER_PART =
  /example|your[_-]?|xxx|\*\*\*|\.\.\.|placeholder|replace|redacted|dummy|sample|<|>|\{\{|\$\{|%\(|%s/i;

function keySegments(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((s) => s.length > 0);
}

type KeyClass = 'password' | 'aws-secret' | 'secret' | 'key' | undefined;

/** A key can only name a secret if it holds one of these; most keys (id, name, url…) do not. */
const MAYBE_SECRET = /pass|pwd|secret|token|key|auth|cred|bearer|cookie|sess|sas|pat/i;
const keyCache = new Map<string, KeyClass>();

export function classifyKey(key: string): KeyClass {
  if (!MAYBE_SECRET.test(key)) return undefined;
  const hit = keyCache.get(key);
  if (hit !== undefined || keyCache.has(key)) return hit;
  const kind = classifyKeyUncached(key);
  if (keyCache.size < 2048) keyCache.set(key, kind);
  return kind;
}

function classifyKeyUncached(key: string): KeyClass {
  const seg = keySegments(key);
  if (seg.length === 0 || seg.length > 8) return undefined;
  const last = seg[seg.length - 1]!;
  const lastTwo = seg.slice(-2).join('_');
  if (NOT_SECRET_TAIL.has(last) || NOT_SECRET_TAIL.has(lastTwo)) return undefined;
  const joined = seg.join('');
  if (joined.includes('aws') && (joined.includes('secretaccesskey') || joined.includes('secretkey'))) {
    return 'aws-secret';
  }
  if (joined === 'secretaccesskey') return 'aws-secret';
  if (seg.some((s) => PASSWORD_WORDS.has(s))) return 'password';
  for (let i = 0; i < seg.length; i++) {
    if (SECRET_WORDS.has(seg[i]!)) return 'secret';
    if (i + 1 < seg.length && SECRET_WORDS.has(seg[i]! + seg[i + 1]!)) return 'secret';
  }
  // api_key, private_key, access_key, x-api-key, …: "key" after a word that makes it a credential.
  if (last === 'key' || last === 'keys') {
    const before = seg[seg.length - 2];
    if (
      before &&
      /^(?:api|private|access|secret|client|signing|encryption|master|subscription|license|app|service|account|admin|write|read|deploy|ingest|server|shared)$/.test(
        before,
      )
    ) {
      return 'secret';
    }
    return 'key';
  }
  return undefined;
}

function classes(v: string): {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  symbol: boolean;
  switches: number;
} {
  let lower = false;
  let upper = false;
  let digit = false;
  let symbol = false;
  let switches = 0;
  let prev = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const k = isLower(c) ? 1 : isUpper(c) ? 2 : isDigit(c) ? 3 : 4;
    if (k === 1) lower = true;
    else if (k === 2) upper = true;
    else if (k === 3) digit = true;
    else symbol = true;
    if (prev !== 0 && k !== prev) switches++;
    prev = k;
  }
  return { lower, upper, digit, symbol, switches };
}

/** Random-looking: long, high entropy, and characters mixed the way generated tokens mix them. */
export function looksRandom(v: string, minLength = 16): boolean {
  if (v.length < minLength || /\s/.test(v)) return false;
  const h = entropy(v);
  if (h < Math.min(3.5, Math.log2(v.length) * 0.8)) return false;
  const c = classes(v);
  // Words joined by separators (my-secret-value) have few switches between character classes.
  if (c.digit && (c.lower || c.upper)) return c.switches >= 3;
  return c.upper && c.lower && c.switches >= 6;
}

function looksLikePassword(v: string, quoted: boolean): boolean {
  if (v.length < 6 || v.length > 128) return false;
  if (!quoted && /\s/.test(v)) return false;
  const c = classes(v);
  const kinds = Number(c.lower) + Number(c.upper) + Number(c.digit) + Number(c.symbol);
  if (quoted) return kinds >= 2 || v.length >= 12;
  return ((c.digit || c.symbol) && (c.lower || c.upper)) || (v.length >= 12 && kinds >= 3);
}

function isPlaceholder(v: string): boolean {
  const low = v.toLowerCase();
  if (PLACEHOLDER_VALUES.has(low)) return true;
  if (PLACEHOLDER_PART.test(v)) return true;
  if (/^(.)\1+$/.test(v)) return true; // ******** or xxxxxxxx
  if (v.startsWith('$') || v.startsWith('%') || v.startsWith('@')) return true; // $VAR, %VAR%, @secret
  if (/^(?:process\.env|os\.environ|env\.|secrets\.|vars\.|import\.meta)/.test(v)) return true;
  return false;
}

/** `config.apiKey`, `this.token`: a reference in code, not a value. */
function isMemberExpression(v: string): boolean {
  return (
    /^[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){1,6}$/.test(v) && !/\d/.test(v.replace(/^[^.]*/, ''))
  );
}

function isKeyChar(c: number): boolean {
  return isAlnum(c) || c === 95 || c === 45 || c === 46;
}

/** Characters that end an unquoted value: space, separators, quotes, brackets. */
const VALUE_STOPS = new Set([...',;"\'`<>(){}[]'].map((ch) => ch.charCodeAt(0)));

function isValueStop(c: number, query: boolean): boolean {
  return isSpace(c) || VALUE_STOPS.has(c) || (query && c === 38);
}

export function scanKeyValues(text: string, out: Finding[]): void {
  const len = text.length;
  // Cached next position of each quote character, so looking for a closing quote never rescans.
  const nextQuote: Record<number, number> = { 34: -2, 39: -2, 96: -2 };
  const findQuote = (q: number, from: number): number => {
    const cached = nextQuote[q]!;
    if (cached === -1 || cached >= from) return cached;
    const at = text.indexOf(String.fromCharCode(q), from);
    nextQuote[q] = at;
    return at;
  };
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c !== 61 && c !== 58) {
      i++;
      continue;
    }
    // Key: back over spaces, a closing quote (maybe escaped), then key characters.
    let k = i;
    while (k > 0 && i - k < 3 && (text.charCodeAt(k - 1) === 32 || text.charCodeAt(k - 1) === 9)) k--;
    let q = k;
    while (q > 0 && k - q < 2 && '"\'`\\]'.includes(text[q - 1]!)) q--;
    let ks = q;
    while (ks > 0 && q - ks < MAX_KEY && isKeyChar(text.charCodeAt(ks - 1))) ks--;
    let key = text.slice(ks, q);
    // <add key="EncryptionKey" value="…" />: the name is in the key attribute before the value.
    if (/^value$/i.test(key)) {
      const attr = /\bkey\s{0,2}=\s{0,2}["']([A-Za-z0-9_.:-]{1,64})["']\s{1,8}$/.exec(
        text.slice(Math.max(0, ks - 90), ks),
      );
      if (attr) key = attr[1]!;
    }
    const keyClass =
      key.length > 0 && (ks === 0 || !isKeyChar(text.charCodeAt(ks - 1))) ? classifyKey(key) : undefined;
    if (!keyClass) {
      i++;
      continue;
    }
    // Separator: =, :, :=, =>, == (a comparison with a literal is still a hard-coded secret).
    let v = i + 1;
    if (v < len && (text.charCodeAt(v) === 61 || text.charCodeAt(v) === 62)) v++;
    while (v < len && v - i < 6 && (text.charCodeAt(v) === 32 || text.charCodeAt(v) === 9)) v++;
    if (text.charCodeAt(v) === 92) v++; // escaped quote inside a JSON string
    const open = text.charCodeAt(v);
    let vs: number;
    let ve: number;
    let quoted = false;
    if (open === 34 || open === 39 || open === 96) {
      const close = findQuote(open, v + 1);
      if (close === -1 || close - v - 1 > MAX_VALUE) {
        i = v + 1;
        continue;
      }
      vs = v + 1;
      ve = close;
      if (text.charCodeAt(ve - 1) === 92) ve--; // \"value\"
      quoted = true;
    } else {
      vs = v;
      ve = v;
      // In a query string (?key=…&…) '&' ends the value; elsewhere it can be part of a password.
      const query = ks > 0 && (text.charCodeAt(ks - 1) === 63 || text.charCodeAt(ks - 1) === 38);
      while (ve < len && ve - vs < MAX_VALUE && !isValueStop(text.charCodeAt(ve), query)) ve++;
    }
    let value = text.slice(vs, ve);
    // Authorization: Bearer <token> / Basic <credentials>: the credential is the next word.
    const scheme = /^(?:bearer|basic|token)(?:\s+|$)/i.exec(value);
    if (scheme && quoted) {
      vs += scheme[0].length;
      value = value.slice(scheme[0].length);
    } else if (scheme) {
      const m = /^[ \t]+([A-Za-z0-9._~+/=-]{8,2048})/.exec(text.slice(ve, ve + 2100));
      if (m) {
        vs = ve + m[0].length - m[1]!.length;
        ve = vs + m[1]!.length;
        value = m[1]!;
      }
    }
    if (value.endsWith('.')) {
      value = value.slice(0, -1);
      ve--;
    }
    const finding = judgeValue(keyClass, value, quoted);
    if (finding)
      out.push({
        detector: 'secrets',
        kind: finding.kind,
        start: vs,
        end: vs + value.length,
        score: finding.score,
      });
    i = Math.max(i + 1, ve);
  }
}

function judgeValue(
  keyClass: NonNullable<KeyClass>,
  value: string,
  quoted: boolean,
): { kind: string; score: number } | undefined {
  if (value.length === 0 || isPlaceholder(value) || (!quoted && isMemberExpression(value))) return undefined;
  if (keyClass === 'aws-secret' && /^[A-Za-z0-9/+]{40}$/.test(value) && looksRandom(value, 40)) {
    return { kind: 'aws-secret-key', score: 0.9 };
  }
  if (keyClass === 'password') {
    if (looksRandom(value)) return { kind: 'password', score: 0.85 };
    if (looksLikePassword(value, quoted)) return { kind: 'password', score: 0.75 };
    return undefined;
  }
  if (keyClass === 'key') return looksRandom(value, 20) ? { kind: 'generic-secret', score: 0.7 } : undefined;
  if (looksRandom(value)) return { kind: 'generic-secret', score: entropy(value) >= 4 ? 0.85 : 0.75 };
  return undefined;
}

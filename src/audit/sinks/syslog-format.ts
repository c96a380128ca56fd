// An audit record as an RFC 5424 syslog message:
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [gatehouse@32473 id="..." ...] {"id":...}
//
// - PRI = facility × 8 + severity, the severity from the outcome (SEVERITY below).
// - TIMESTAMP is the record's time (when the interaction started), UTC with milliseconds.
// - MSGID is the JSON-RPC method. MSGID has no escape syntax (RFC 5424 §6.2.7: 1-32 printable
//   US-ASCII characters), so any other character becomes `_` and it is cut at 32.
// - STRUCTURED-DATA holds a few key fields for filtering without parsing the body, values
//   escaped per §6.3.3 (`"`, `\` and `]` get a backslash). Control characters, which no
//   escape covers, become U+FFFD; the body keeps them exactly. Values are cut at 128 characters.
// - MSG is the whole record as JSON, UTF-8, without a BOM: RFC 8259 §8.1 forbids one in front
//   of JSON text, so this is RFC 5424's MSG-ANY form rather than MSG-UTF8.
import type { Outcome, StoredRecord } from '../record.ts';

/**
 * The SD-ID. `gatehouse@32473`: 32473 is the Private Enterprise Number IANA reserves for
 * documentation (RFC 5612). It is a placeholder until the project registers its own number;
 * receivers should match on this constant, which is the only place to change it.
 */
export const SD_ID = 'gatehouse@32473';

/**
 * RFC 5424 §6.2.1 severities: ok is informational (6), error is error (3), and refusals
 * (denied by policy, blocked by a guardrail or limit) are warning (4): the gateway worked as
 * configured, but someone tried something they may not do, which a SIEM should see.
 */
export const SEVERITY: Readonly<Record<Outcome, number>> = { ok: 6, error: 3, denied: 4, blocked: 4 };

/**
 * The largest UDP datagram sent, in bytes. rsyslog's default `maxMessageSize` accepts 8096
 * (measured), syslog-ng's 64 KiB; RFC 5426 only guarantees 480 (IPv4) / 1180 (IPv6) and
 * recommends 2048, which most records with arguments exceed. Longer messages get their MSG cut
 * at a character boundary and `truncated="<full MSG bytes>"` in the structured data. The header
 * and structured data stay under 5 KB (11 values of at most 128 characters, 3 bytes each), so
 * a cut MSG keeps at least 3 KB.
 * TCP has no cap: use it when whole records matter.
 */
export const UDP_MAX_BYTES = 8000;

const MAX_SD_VALUE_CHARS = 128;

export interface SyslogHeader {
  /** 0-23 (16 = local0). */
  facility: number;
  appName: string;
  /** This host's name (see `syslogHostname`). */
  hostname: string;
  procId: string;
}

/** The message for one record; with `maxBytes`, at most that many bytes (MSG cut, and said so). */
export function formatSyslog(record: StoredRecord, header: SyslogHeader, maxBytes?: number): Buffer {
  const pri = header.facility * 8 + (SEVERITY[record.outcome] ?? 3);
  const head = `<${pri}>1 ${timestamp(record.time)} ${header.hostname} ${header.appName} ${header.procId} ${msgId(record.method)}`;
  const params = keyFields(record);
  const msg = Buffer.from(JSON.stringify(record), 'utf8');
  const whole = Buffer.from(`${head} ${structuredData(params)} `, 'utf8');
  if (maxBytes === undefined || whole.length + msg.length <= maxBytes) return Buffer.concat([whole, msg]);
  params.push(['truncated', String(msg.length)]);
  const cut = Buffer.from(`${head} ${structuredData(params)} `, 'utf8');
  return Buffer.concat([cut, msg.subarray(0, utf8Boundary(msg, Math.max(0, maxBytes - cut.length)))]);
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function frameOctetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** The HOSTNAME field: printable US-ASCII, at most 255, `-` when there is nothing usable. */
export function syslogHostname(name: string): string {
  return printable(name, 255);
}

function keyFields(record: StoredRecord): [string, string][] {
  const fields: [string, string | number | undefined][] = [
    ['id', record.id],
    ['outcome', record.outcome],
    ['agent', record.principal.agent],
    ['user', record.principal.user],
    ['target', record.target],
    ['errorcode', record.errorCode],
    ['session', record.session],
    ['traceid', record.traceId],
    ['server', record.virtualServer],
    ['upstream', record.upstream],
    ['instance', record.instance],
  ];
  // Names are lower case: some receivers (rsyslog's mmpstrucdata by default) lower-case them.
  return fields
    .filter((f): f is [string, string | number] => f[1] !== undefined)
    .map(([k, v]) => [k, String(v)]);
}

function structuredData(params: readonly [string, string][]): string {
  return `[${SD_ID}${params.map(([name, value]) => ` ${name}="${paramValue(value)}"`).join('')}]`;
}

function paramValue(value: string): string {
  let text = value.length > MAX_SD_VALUE_CHARS ? value.slice(0, MAX_SD_VALUE_CHARS) : value;
  if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1); // don't leave half a surrogate pair
  return text.replace(/[\\"\]]/g, '\\$&').replace(/\p{Cc}/gu, '\uFFFD');
}

function msgId(method: string): string {
  return printable(method.replace(/[^!-~]/g, '_'), 32);
}

function printable(text: string, max: number): string {
  const kept = text.replace(/[^!-~]/g, '').slice(0, max);
  return kept === '' ? '-' : kept;
}

/** RFC 5424 TIMESTAMP: RFC 3339 in UTC with milliseconds, `-` when the record's time is unusable. */
function timestamp(time: string): string {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return '-';
  const iso = new Date(ms).toISOString();
  return /^\d{4}-/.test(iso) ? iso : '-';
}

/** The largest length ≤ `max` that does not split a UTF-8 character. */
function utf8Boundary(bytes: Buffer, max: number): number {
  let end = Math.min(max, bytes.length);
  // Continuation bytes are 10xxxxxx: back up to the byte that starts the character.
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

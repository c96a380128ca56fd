// Server-Sent Events, both directions: an incremental parser for streams we read, and the
// encoder for streams we write. One place for the wire format (WHATWG "event stream").
import type { ServerResponse } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** The longest line kept while waiting for its end; past it the line is dropped. */
const MAX_LINE = 16 * 1024 * 1024;

/** Feeds text chunks in, calls `onEvent` for each complete event. Handles CRLF, CR and LF. */
export function createSseParser(onEvent: (e: SseEvent) => void): (chunk: string) => void {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  const dispatch = () => {
    if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n'), id, retry });
    event = '';
    data = [];
    retry = undefined;
  };
  /** A chunk ended on CR: if the next one starts with LF, that LF belongs to the same line end. */
  let skipLf = false;
  const line = (text: string) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  };
  /** How far the buffer has been searched for a line end (it holds one unfinished line). */
  let scanned = 0;
  return (chunk) => {
    buffer += chunk;
    let start = 0;
    if (skipLf && buffer[0] === '\n') start = 1;
    skipLf = false;
    for (let i = Math.max(start, scanned); i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      line(buffer.slice(start, i));
      if (c === 13) {
        if (i + 1 === buffer.length) skipLf = true;
        else if (buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
    scanned = buffer.length;
    // A peer that never ends a line must not grow our memory without bound.
    if (buffer.length > MAX_LINE) {
      buffer = '';
      scanned = 0;
      data = [];
    }
  };
}

/** Encodes one event; `data` must not contain newlines (JSON.stringify output never does). */
export function sseEvent(data: string, options?: { id?: string; event?: string }): string {
  let out = '';
  if (options?.event) out += `event: ${options.event}\n`;
  if (options?.id) out += `id: ${options.id}\n`;
  return `${out}data: ${data}\n\n`;
}

/**
 * Writes a comment line every 15 s while `res` is open: proxies and load balancers close idle
 * connections, and a long-lived stream may carry nothing for minutes.
 */
export function keepAlive(res: ServerResponse, everyMs = 15_000): void {
  const timer = setInterval(() => res.write(': keepalive\n\n'), everyMs);
  res.once('close', () => clearInterval(timer));
}

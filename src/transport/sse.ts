// Server-Sent Events, both directions: an incremental parser for streams we read, and the
// encoder for streams we write. One place for the wire format (WHATWG "event stream").

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

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
  return (chunk) => {
    buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = buffer.slice(start).search(/\r\n|\r|\n/);
      if (nl < 0) break;
      const end = start + nl;
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (buffer[end] === '\r' && end + 1 === buffer.length) break;
      const line = buffer.slice(start, end);
      start = end + (buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1);
      if (line === '') {
        dispatch();
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    buffer = buffer.slice(start);
  };
}

/** Encodes one event; `data` must not contain newlines (JSON.stringify output never does). */
export function sseEvent(data: string, options?: { id?: string; event?: string }): string {
  let out = '';
  if (options?.event) out += `event: ${options.event}\n`;
  if (options?.id) out += `id: ${options.id}\n`;
  return `${out}data: ${data}\n\n`;
}

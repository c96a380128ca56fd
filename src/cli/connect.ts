// `gatehouse connect URL`: a stdio bridge for clients that can only launch a local process.
// Lines from stdin are POSTed to the gateway; answers and server messages go to stdout, one JSON
// message per line. stdout carries nothing else; diagnostics go to stderr.
import { createInterface } from 'node:readline';
import { createSseParser } from '../transport/sse.ts';

export async function runConnect(
  url: string,
  headerArgs: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const base: Record<string, string> = {};
  for (const h of headerArgs) {
    const colon = h.indexOf(':');
    if (colon <= 0) continue;
    const name = h.slice(0, colon).trim().toLowerCase();
    // `${NAME}` takes the value from the environment, so a credential need not be an argument
    // (arguments show in `ps` and shell history): --header 'Authorization: Bearer ${GATEHOUSE_KEY}'.
    const missing: string[] = [];
    const value = h
      .slice(colon + 1)
      .trim()
      .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
        const found = env[variable];
        if (found === undefined) missing.push(variable);
        return found ?? '';
      });
    if (missing.length > 0) {
      process.stderr.write(
        `gatehouse connect: --header ${name}: environment variable ${missing[0]} is not set\n`,
      );
      return 2;
    }
    base[name] = value;
  }
  // Checked here, before anything is sent, so a bad header is named and its value is not:
  // fetch's own error quotes the value, which is usually a credential (issue 3, secret leaks).
  for (const [name, value] of Object.entries(base)) {
    if (!sendable(name, value)) {
      process.stderr.write(
        `gatehouse connect: --header ${name}: the name or value has characters a header cannot carry (a line break?); nothing was sent\n`,
      );
      return 2;
    }
  }
  let sessionId: string | undefined;
  let version: string | undefined;
  const standalone = new AbortController();
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const warn = (text: string) => process.stderr.write(`gatehouse connect: ${text}\n`);
  const headers = (): Record<string, string> => ({
    ...base,
    ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    ...(version ? { 'mcp-protocol-version': version } : {}),
  });

  const pump = async (body: ReadableStream<Uint8Array>) => {
    const feed = createSseParser((e) => {
      if (e.event === 'message' && e.data) out(e.data);
    });
    const decoder = new TextDecoder();
    for await (const chunk of body) feed(decoder.decode(chunk, { stream: true }));
  };

  const send = async (line: string) => {
    let message: { id?: unknown; method?: string; result?: { protocolVersion?: string } };
    try {
      message = JSON.parse(line);
    } catch {
      warn('ignored a line that is not JSON');
      return;
    }
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        ...headers(),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: line,
    });
    const sid = res.headers.get('mcp-session-id');
    const isInit = message.method === 'initialize';
    if (isInit && sid) sessionId = sid;
    const type = res.headers.get('content-type') ?? '';
    if (res.status === 202 || !res.body) return;
    if (type.includes('text/event-stream')) return pump(res.body);
    const text = await res.text();
    if (!text) return;
    out(text.replace(/\n/g, ''));
    if (isInit && res.ok) {
      try {
        version = (JSON.parse(text) as { result?: { protocolVersion?: string } }).result?.protocolVersion;
      } catch {}
      void openStandalone();
    }
    if (res.status === 404 && sessionId) warn('the gateway ended this session; restart the client');
  };

  const openStandalone = async () => {
    try {
      const res = await fetch(url, {
        headers: { ...headers(), accept: 'text/event-stream' },
        signal: standalone.signal,
      });
      if (res.ok && res.body) await pump(res.body);
    } catch {}
  };

  // Requests run concurrently (a long tool call must not block a cancellation behind it).
  const inFlight = new Set<Promise<void>>();
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (!line.trim()) continue;
    const p: Promise<void> = send(line).catch((err: unknown) => {
      warn(`request failed: ${String(err)}`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await Promise.allSettled(inFlight);
  standalone.abort();
  if (sessionId) await fetch(url, { method: 'DELETE', headers: headers() }).catch(() => {});
  return 0;
}

/** Whether fetch accepts this header (its check, so the two can never disagree). */
function sendable(name: string, value: string): boolean {
  try {
    new Headers([[name, value]]);
    return true;
  } catch {
    return false;
  }
}

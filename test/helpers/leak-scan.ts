// The secret-leak scan (issue 3): a table of secrets a test planted, everything the gateway and its
// CLI produced (captured as text, each with a name saying where it came from), and one function
// that looks for every secret, in the encodings a careless line of code would print it in, in
// every captured text. Findings name the secret and the place, with an excerpt in which the
// secret itself is masked, so a failing run does not leak it a second time into CI logs.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';

/** A secret value the test put somewhere, and where (for the failure message). */
export interface Secret {
  name: string;
  value: string;
  /**
   * Other spellings of the same secret that are not encodings of `value`: the Basic header built
   * from a URL's `user:password`, a master key's raw bytes in base64.
   */
  derived?: { label: string; text: string }[];
}

/** One thing the gateway or its CLI produced: a process's output, an HTTP response, a file. */
export interface Capture {
  source: string;
  text: string;
}

/** Too short to be distinctive: an encoded prefix this short would match by chance. */
const MIN_NEEDLE = 12;

/**
 * The spellings searched for. Base64 is searched by its aligned prefix (the whole 3-byte groups),
 * which is the same whether the secret was encoded alone or at the start of a longer text.
 */
export function spellings(secret: Secret): { label: string; text: string; anyCase?: boolean }[] {
  const { value } = secret;
  const aligned = Buffer.from(value).subarray(0, Math.floor(Buffer.byteLength(value) / 3) * 3);
  const out = [
    { label: 'as is', text: value },
    { label: 'JSON-escaped', text: JSON.stringify(value).slice(1, -1) },
    { label: 'URL-encoded', text: encodeURIComponent(value) },
    { label: 'form-encoded', text: new URLSearchParams({ v: value }).toString().slice(2) },
    { label: 'base64', text: aligned.toString('base64') },
    { label: 'base64url', text: aligned.toString('base64url') },
    { label: 'hex', text: Buffer.from(value).toString('hex'), anyCase: true },
    ...(secret.derived ?? []),
  ];
  // One search per distinct text, under its first (plainest) name.
  const distinct = new Map<string, (typeof out)[number]>();
  for (const s of out) if (s.text.length >= MIN_NEEDLE && !distinct.has(s.text)) distinct.set(s.text, s);
  return [...distinct.values()];
}

/** Every place a secret appears in a capture, as readable messages; empty when nothing leaked. */
export function findLeaks(secrets: readonly Secret[], captures: readonly Capture[]): string[] {
  const found: string[] = [];
  for (const capture of captures) {
    const lower = capture.text.toLowerCase();
    for (const secret of secrets) {
      for (const spelling of spellings(secret)) {
        const at = spelling.anyCase
          ? lower.indexOf(spelling.text.toLowerCase())
          : capture.text.indexOf(spelling.text);
        if (at < 0) continue;
        found.push(
          `${secret.name} (${spelling.label}) appeared in ${mask(capture.source, secrets)}: ` +
            mask(excerpt(capture.text, at, spelling.text.length), secrets),
        );
      }
    }
  }
  return found;
}

/** The text with every secret replaced by a marker: a failure message must not leak them again. */
export function mask(text: string, secrets: readonly Secret[]): string {
  let masked = text;
  for (const secret of secrets) {
    for (const spelling of spellings(secret)) masked = masked.replaceAll(spelling.text, '[SECRET]');
  }
  return masked;
}

/** Up to 80 characters either side of the secret, which is replaced by a marker. */
function excerpt(text: string, at: number, length: number): string {
  const before = text.slice(Math.max(0, at - 80), at);
  const after = text.slice(at + length, at + length + 80);
  return JSON.stringify(`${before}[SECRET]${after}`);
}

/** The captures of one test run, appended to while the run goes on. */
export class Captures {
  readonly all: Capture[] = [];

  add(source: string, text = ''): Capture {
    const capture = { source, text };
    this.all.push(capture);
    return capture;
  }

  /** stdout and stderr of a child process, each captured as it arrives. */
  process(name: string, child: ChildProcess): { stdout: Capture; stderr: Capture } {
    const stdout = this.add(`${name} (stdout)`);
    const stderr = this.add(`${name} (stderr)`);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout.text += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr.text += chunk));
    return { stdout, stderr };
  }

  /**
   * A fetch for SDK clients that records every response: status, headers, and the body as it
   * streams (an SSE stream is captured event by event while the client reads its own copy).
   */
  fetch(name: string): (url: string | URL, init?: RequestInit) => Promise<Response> {
    let n = 0;
    return async (url, init) => {
      const res = await fetch(url, init);
      const capture = this.add(`${name} response #${++n} to ${init?.method ?? 'GET'} ${url}`, head(res));
      const copy = res.clone().body;
      if (copy) void drain(copy, capture);
      return res;
    };
  }

  /** One HTTP request, captured whole (status, headers, body). See `request`. */
  async request(name: string, url: string, options: RequestOptions = {}): Promise<RawResponse> {
    const res = await request(url, options);
    this.add(name, `HTTP ${res.status}\n${formatHeaders(res.headers)}\n\n${res.body}`);
    return res;
  }
}

function head(res: Response): string {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return `HTTP ${res.status}\n${formatHeaders(headers)}\n\n`;
}

async function drain(body: ReadableStream<Uint8Array>, capture: Capture): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) capture.text += decoder.decode(chunk, { stream: true });
  } catch {
    // The client aborted the stream (closing a GET stream does): what arrived is captured.
  }
}

function formatHeaders(headers: http.IncomingHttpHeaders | Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join('\n');
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * The loopback address to send from (any of 127.0.0.0/8 on Linux): failed attempts are
   * throttled per source address, so probes from their own address leave the test's own
   * clients, on 127.0.0.1, unthrottled.
   */
  localAddress?: string;
  /** An answer still streaming after this long (an SSE stream) is cut, keeping what came. */
  maxMs?: number;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request over node:http (fetch cannot choose its source address). */
export function request(url: string, options: RequestOptions = {}): Promise<RawResponse> {
  const { method = 'GET', headers = {}, body, localAddress, maxMs = 5000 } = options;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      let text = '';
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      };
      const timer = setTimeout(() => {
        res.destroy();
        done();
      }, maxMs);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', done);
      res.once('error', done);
    });
    req.once('error', reject);
    req.end(body);
  });
}

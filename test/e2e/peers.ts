// Real peers for the end-to-end tests: server-everything over Streamable HTTP as a child process
// (kept on loopback by a preload), temp folders for server-filesystem and server-memory, and
// the official SDK clients (v1 and v2) connected to a running gateway.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { servers } from '../helpers/gateway.ts';

const preload = fileURLToPath(new URL('../fixtures/loopback-only.cjs', import.meta.url));

/** A free loopback port (asked of the OS, then released for the child to take). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface HttpUpstream {
  /** The MCP endpoint, e.g. http://127.0.0.1:3901/mcp */
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `server-everything streamableHttp` on a loopback port (a free one by default). */
export async function startEverythingHttp(port?: number): Promise<HttpUpstream> {
  port ??= await freePort();
  const child = spawn(process.execPath, ['--require', preload, servers.everything, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`server-everything exited early: ${stderr}`);
    if (stderr.includes('listening on port')) return { url, child, stop };
    await sleep(50);
  }
  await stop();
  throw new Error(`server-everything did not start: ${stderr}`);
}

/** A temp folder removed by `remove()`. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `gatehouse-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface V1Options {
  capabilities?: ClientCapabilities;
  name?: string;
}

/** An official v1 SDK client connected over Streamable HTTP to `endpoint`. */
export async function connectV1(endpoint: string, options: V1Options = {}) {
  const client = new Client(
    { name: options.name ?? 'e2e-v1', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  const transport = new StreamableHTTPClientTransport(new URL(endpoint));
  await client.connect(transport);
  return { client, transport };
}

/** An official v1 SDK client over the legacy HTTP+SSE transport (GET /sse + POST /message). */
export async function connectV1Sse(endpoint: string, options: V1Options = {}) {
  const client = new Client(
    { name: options.name ?? 'e2e-v1-sse', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  const transport = new SSEClientTransport(new URL(endpoint));
  await client.connect(transport);
  return { client, transport };
}

/** The text of the first text block of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** Polls `check` until it returns true, for at most `ms` milliseconds. */
export async function waitFor(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Records every message the client transport receives, before the SDK handles it. The v1 SDK
 * dispatches notifications a tick later than responses, so a progress notification that arrives
 * in the same chunk as the response never reaches `onprogress`; the wire order is what the
 * gateway controls, so tests check it here.
 */
export function tapMessages(transport: {
  onmessage?: (message: never, extra?: never) => void;
}): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  const original = transport.onmessage;
  if (!original) throw new Error('tap after connect: the client sets onmessage');
  transport.onmessage = (message: never, extra?: never) => {
    seen.push(message as Record<string, unknown>);
    original.call(transport, message, extra);
  };
  return seen;
}

/** The progress values of the progress notifications in `messages` for one token. */
export function progressFor(messages: Record<string, unknown>[], token: unknown): [number, number?][] {
  return messages
    .filter((m) => m.method === 'notifications/progress')
    .map((m) => m.params as { progressToken: unknown; progress: number; total?: number })
    .filter((p) => p.progressToken === token)
    .map((p) => (p.total === undefined ? [p.progress] : [p.progress, p.total]));
}

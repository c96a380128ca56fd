// The two things the suite can run against: the fixture on its own (the control: proves the
// fixture and the CLI agree), and Gatehouse fronting the fixture as a stdio upstream.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const FIXTURE_PATH = fileURLToPath(new URL('../fixtures/conformance-server.ts', import.meta.url));

export interface Target {
  name: string;
  /** MCP endpoint, always on `localhost`: dns-rebinding-protection only applies to loopback names. */
  url: string;
  close(): Promise<void>;
}

/** `http://127.0.0.1:1234/x` → `http://localhost:1234/<path>`. */
function onLocalhost(url: string, pathname: string): string {
  const u = new URL(url);
  u.hostname = 'localhost';
  u.pathname = pathname;
  return u.href;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the URL the fixture prints once it listens (`listening <url>`). */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const done = (error: Error | undefined, url?: string) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      if (error) reject(error);
      else resolve(url!);
    };
    const onExit = (code: number | null) => done(new Error(`fixture exited (code ${code}) before listening`));
    const timer = setTimeout(() => done(new Error('fixture did not start within 10 s')), 10_000);
    child.once('exit', onExit);
    lines.once('line', (line) => {
      const url = /^listening (\S+)$/.exec(line)?.[1];
      done(url ? undefined : new Error(`unexpected fixture output: ${line}`), url);
    });
  });
}

/** The fixture as a Streamable HTTP server on a free loopback port. */
export async function startDirect(): Promise<Target> {
  const child = spawn(process.execPath, [FIXTURE_PATH, '--http', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await listeningUrl(child);
    return { name: 'fixture (direct)', url: onLocalhost(url, '/mcp'), close: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** Gatehouse in-process, fronting the fixture (stdio) as virtual server `conformance`. */
export async function startThroughGateway(): Promise<Target> {
  // Imported lazily so `--direct` still works while the gateway is broken or half-written.
  const [{ startGateway }, { configSchema }] = await Promise.all([
    import('../../src/gateway.ts'),
    import('../../src/config/schema.ts'),
  ]);
  const config = configSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    auth: { anonymous: true },
    // The suite checks the protocol; audit and metrics are tested on their own.
    audit: { enabled: false },
    metrics: { enabled: false },
    upstreams: {
      fixture: { transport: 'stdio', command: process.execPath, args: [FIXTURE_PATH] },
    },
    virtualServers: {
      // No prefixes: the suite calls tools and prompts by their bare fixture names.
      conformance: { servers: ['fixture'], naming: { prefix: 'never' } },
    },
  });
  const gateway = await startGateway(config);
  return {
    name: 'through Gatehouse',
    url: onLocalhost(gateway.url, '/mcp/conformance'),
    close: () => gateway.close(),
  };
}

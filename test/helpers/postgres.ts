// A private PostgreSQL server for fault tests: its own data folder and port on 127.0.0.1, so a
// test can stop, crash and restart it without touching the machine's shared server. Uses the
// `initdb` and `pg_ctl` on PATH; when the tests run as root (initdb refuses root), they run as
// the `postgres` user, who then owns the data folder.
import { execFile, spawnSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresInstance {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly dataDir: string;
  /** Starts the server again after `stop` (same folder, same port); resolves once it accepts connections. */
  start(): Promise<void>;
  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash (recovery on the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  readonly running: boolean;
  /** Stops the server if it runs and deletes its folder. */
  destroy(): Promise<void>;
}

/** Why a private server cannot be started here, or undefined when it can (for `skip`). */
export function postgresUnavailable(): string | undefined {
  for (const tool of ['initdb', 'pg_ctl']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) return `${tool} is not on PATH`;
  }
  if (process.getuid?.() === 0 && postgresUid() === undefined)
    return 'running as root without a postgres user';
  return undefined;
}

/** Creates a data folder with `initdb` and starts a server on a free loopback port. */
export async function startPostgres(): Promise<PostgresInstance> {
  const root = await mkdtemp(join(tmpdir(), 'gatehouse-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'socket');
  await mkdir(socketDir);
  const uid = process.getuid?.() === 0 ? postgresUid() : undefined;
  if (uid !== undefined) {
    await chown(root, uid.uid, uid.gid);
    await chown(socketDir, uid.uid, uid.gid);
  }
  const run = (tool: string, args: string[]) =>
    exec(
      uid === undefined ? tool : 'runuser',
      uid === undefined ? args : ['-u', 'postgres', '--', tool, ...args],
    );
  await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);

  let port = 0;
  let running = false;
  const logFile = join(root, 'server.log');
  const start = async () => {
    // fsync=off: the tests crash the server process, never the machine, so the OS keeps every
    // write; committed transactions survive `immediate` exactly as they would with fsync on.
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${socketDir} -c fsync=off`;
    try {
      await run('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '30', '-l', logFile, '-o', options]);
    } catch (error) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`postgres did not start on port ${port}: ${String(error)}\n${log.slice(-2000)}`);
    }
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    await run('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30']);
    running = false;
  };
  // The port is free when asked for but may be taken before the server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      if (attempt === 3) {
        await rm(root, { recursive: true, force: true });
        throw error;
      }
    }
  }
  // A test that dies before its `after` must not leave a server running.
  const onExit = () => {
    if (running)
      spawnSync(uid === undefined ? 'pg_ctl' : 'runuser', [
        ...(uid === undefined ? [] : ['-u', 'postgres', '--', 'pg_ctl']),
        'stop',
        '-D',
        dataDir,
        '-m',
        'immediate',
      ]);
  };
  process.once('exit', onExit);

  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    start,
    stop,
    get running() {
      return running;
    },
    async destroy() {
      process.removeListener('exit', onExit);
      await stop('immediate').catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}

function postgresUid(): { uid: number; gid: number } | undefined {
  const passwd = spawnSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' });
  const fields = passwd.stdout?.trim().split(':');
  if (passwd.status !== 0 || !fields || fields.length < 4) return undefined;
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exec(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

// A private rsyslogd for syslog sink tests: its own config file (never the system one), UDP and
// TCP inputs on free loopback ports, and every message it receives written as one JSON line of
// the fields rsyslog parsed out of it (mmpstrucdata parses the structured data, so escapes are
// checked by rsyslog's RFC 5424 parser, not by ours). The Debian package `rsyslog` provides the
// daemon; .ci/run installs it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One message as rsyslog parsed it. */
export interface Received {
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** The STRUCTURED-DATA field as received. */
  structuredData: string;
  /** The structured data as mmpstrucdata parsed it: SD-ID → param → value. */
  sd: Record<string, Record<string, string>>;
  msg: string;
  input: 'imudp' | 'imtcp';
}

export interface Rsyslog {
  readonly udpPort: number;
  readonly tcpPort: number;
  /** Every message received so far (readiness probes left out). */
  messages(): Received[];
  /** Stops the daemon (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports; resolves once both inputs receive. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

const PROBE = 'gatehouse-probe';
let probes = 0;

/** The rsyslogd binary, or a thrown error saying how to get it (tests must not skip silently). */
export function rsyslogdPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v rsyslogd'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  for (const path of ['/usr/sbin/rsyslogd', '/sbin/rsyslogd']) if (existsSync(path)) return path;
  throw new Error(
    'rsyslogd is not installed: the syslog sink is tested against a real rsyslog. ' +
      'Install it with `apt-get install -y --no-install-recommends rsyslog` (.ci/run does this in CI).',
  );
}

export async function startRsyslog(): Promise<Rsyslog> {
  const binary = rsyslogdPath();
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-rsyslog-'));
  const tcpPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const out = join(dir, 'received.jsonl');
  const conf = join(dir, 'rsyslog.conf');
  await writeFile(conf, config(dir, out, udpPort, tcpPort));
  let child: ChildProcess | undefined;
  let stderr = '';

  async function start(): Promise<void> {
    stderr = '';
    const proc = spawn(binary, ['-f', conf, '-i', join(dir, 'rsyslogd.pid'), '-n'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (chunk) => (stderr += chunk));
    proc.stderr?.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) =>
        reject(new Error(`rsyslogd exited (${code}) before it was ready:\n${stderr}`)),
      ),
    );
    await Promise.race([ready(), exited]);
    exited.catch(() => {}); // a later exit (stop) is expected
  }

  async function ready(): Promise<void> {
    const deadline = Date.now() + 15_000;
    const probe = dgram.createSocket('udp4');
    try {
      for (;;) {
        if (Date.now() > deadline)
          throw new Error(`rsyslogd did not receive on 127.0.0.1:${udpPort}/${tcpPort}:\n${stderr}`);
        const tag = `${PROBE}-${process.pid}-${probes++}`;
        const message = `<14>1 - - probe - ${PROBE} - ${tag}`;
        probe.send(message, udpPort, '127.0.0.1');
        const tcpOk = await sendTcp(tcpPort, `${Buffer.byteLength(message)} ${message}`).then(
          () => true,
          () => false,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        const seen = readAll(out).filter((m) => m.msg === tag);
        if (tcpOk && seen.some((m) => m.input === 'imudp') && seen.some((m) => m.input === 'imtcp')) return;
      }
    } finally {
      probe.close();
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    udpPort,
    tcpPort,
    messages: () => readAll(out).filter((m) => m.msgId !== PROBE),
    stop,
    start,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function config(dir: string, out: string, udpPort: number, tcpPort: number): string {
  // maxMessageSize: large TCP frames arrive whole (rsyslog's default cuts at 8096 bytes), so a
  // cut UDP message is the sink's doing, not the daemon's.
  return `
global(workDirectory="${dir}" maxMessageSize="256k")
module(load="imudp")
module(load="imtcp")
module(load="mmpstrucdata")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}")
template(name="fields" type="list" option.jsonf="on") {
  property(outname="facility" name="syslogfacility" format="jsonf" datatype="number")
  property(outname="severity" name="syslogseverity" format="jsonf" datatype="number")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appName" name="app-name" format="jsonf")
  property(outname="procId" name="procid" format="jsonf")
  property(outname="msgId" name="msgid" format="jsonf")
  property(outname="structuredData" name="structured-data" format="jsonf")
  property(outname="sd" name="$!rfc5424-sd" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="input" name="inputname" format="jsonf")
}
action(type="mmpstrucdata")
action(type="omfile" file="${out}" template="fields")
`;
}

function readAll(file: string): Received[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const raw = JSON.parse(line) as Omit<Received, 'sd'> & { sd: string };
      return { ...raw, sd: raw.sd ? JSON.parse(raw.sd) : {} };
    });
}

function sendTcp(port: number, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(data));
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

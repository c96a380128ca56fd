// The syslog sink: one RFC 5424 message per record (syslog-format.ts), over TCP with
// octet-counting framing (RFC 6587 §3.4.1) or over UDP, one datagram per record (RFC 5426).
//
// Syslog has no acknowledgements, so "delivered" means the kernel took the bytes. TCP: one
// connection, remade on the next attempt after any error, and dropped as soon as the receiver
// closes it (so a restarted daemon is noticed before the next write, not after it); records
// sent on a connection that then broke unnoticed are not known to be lost. A batch that fails
// part-way resumes after the last record written. UDP: a datagram may be lost without a trace;
// a refused port (ICMP) shows up as an error on a later send and is retried.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { hostname } from 'node:os';
import type { StoredRecord } from '../record.ts';
import type { SinkConfig } from '../schema.ts';
import {
  createDelivery,
  type DeliverySink,
  deliveryLimits,
  type SinkOptions,
  type Transport,
} from './delivery.ts';
import {
  formatSyslog,
  frameOctetCounted,
  type SyslogHeader,
  syslogHostname,
  UDP_MAX_BYTES,
} from './syslog-format.ts';

export type SyslogSinkConfig = Extract<SinkConfig, { type: 'syslog' }>;

const CONNECT_TIMEOUT_MS = 10_000;
/** A receiver that stops reading fills the socket buffers; a write stuck this long is a failure. */
const WRITE_TIMEOUT_MS = 30_000;

export function createSyslogSink(config: SyslogSinkConfig, options: SinkOptions): DeliverySink {
  const header: SyslogHeader = {
    facility: config.facility,
    appName: config.appName,
    hostname: syslogHostname(hostname()),
    procId: String(process.pid),
  };
  const transport =
    config.protocol === 'tcp'
      ? tcpTransport(config.host, config.port, header)
      : udpTransport(config.host, config.port, header);
  const destination = `${config.protocol}://${net.isIPv6(config.host) ? `[${config.host}]` : config.host}:${config.port}`;
  return createDelivery(transport, { ...options, ...deliveryLimits(config), destination });
}

function tcpTransport(host: string, port: number, header: SyslogHeader): Transport {
  let socket: net.Socket | undefined;

  function connect(signal: AbortSignal): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const fail = (error: Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        s.destroy();
        reject(error);
      };
      const abort = () => fail(new Error('the sink is closing'));
      const timer = setTimeout(
        () => fail(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
        CONNECT_TIMEOUT_MS,
      );
      signal.addEventListener('abort', abort);
      s.once('error', fail);
      s.once('connect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        s.off('error', fail);
        // Errors reach the pending write's callback; this listener only keeps them from
        // being unhandled. A receiver that closes its end is done with us: drop the socket.
        s.on('error', () => s.destroy());
        s.on('end', () => s.destroy());
        s.on('close', () => {
          if (socket === s) socket = undefined;
        });
        s.resume(); // read (and ignore) so the receiver's FIN is seen
        resolve(s);
      });
    });
  }

  return {
    async send(batch, signal) {
      let written = 0;
      const abort = () => socket?.destroy(new Error('the sink is closing'));
      signal.addEventListener('abort', abort);
      try {
        if (!socket || socket.destroyed) socket = await connect(signal);
        const s = socket;
        for (const record of batch) {
          await write(s, frameOctetCounted(formatSyslog(record, header)));
          written++;
        }
        return { ok: true };
      } catch (error) {
        socket?.destroy();
        socket = undefined;
        return { ok: false, error: describe(error), delivered: written };
      } finally {
        signal.removeEventListener('abort', abort);
      }
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => s.destroy(), 1_000);
        s.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        s.end();
      });
    },
  };
}

function write(socket: net.Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) return reject(new Error('the connection is closed'));
    const timer = setTimeout(() => {
      reject(new Error(`the receiver took nothing for ${WRITE_TIMEOUT_MS} ms`));
      socket.destroy();
    }, WRITE_TIMEOUT_MS);
    socket.write(bytes, (error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    });
  });
}

function udpTransport(host: string, port: number, header: SyslogHeader): Transport {
  let socket: dgram.Socket | undefined;

  async function open(): Promise<dgram.Socket> {
    // Resolved on every (re)open, so a receiver that moves is followed after the next error.
    const { address, family } = await lookup(host);
    const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('error', () => s.close());
    // Connected, so an ICMP "port unreachable" comes back as ECONNREFUSED on a later send.
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(port, address, () => {
        s.off('error', reject);
        resolve();
      });
    });
    return s;
  }

  return {
    async send(batch: readonly StoredRecord[], signal) {
      let sent = 0;
      try {
        socket ??= await open();
        for (const record of batch) {
          if (signal.aborted) return { ok: false, error: 'the sink is closing', delivered: sent };
          const message = formatSyslog(record, header, UDP_MAX_BYTES);
          const s = socket;
          await new Promise<void>((resolve, reject) =>
            s.send(message, (error) => (error ? reject(error) : resolve())),
          );
          sent++;
        }
        return { ok: true };
      } catch (error) {
        closeQuietly(socket);
        socket = undefined;
        return { ok: false, error: describe(error), delivered: sent };
      }
    },
    async close() {
      closeQuietly(socket);
      socket = undefined;
    },
  };
}

function closeQuietly(socket: dgram.Socket | undefined): void {
  try {
    socket?.close();
  } catch {
    // Already closed (after an error): nothing left to release.
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

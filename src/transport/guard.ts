// Checks every request passes before any MCP processing: Host and Origin (DNS-rebinding
// defence, 403 per the spec) and a bounded body.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return (colon >= 0 ? hostHeader.slice(0, colon) : hostHeader).toLowerCase();
}

export interface GuardOptions {
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}

/**
 * Host must be a loopback name or an allowed host; Origin, when sent, must be a loopback origin
 * or an allowed one. Returns the error to answer with, or undefined.
 */
export function checkOrigin(req: IncomingMessage, options: GuardOptions): GatewayError | undefined {
  const host = req.headers.host;
  if (host !== undefined) {
    const name = hostname(host);
    if (
      !LOOPBACK_HOSTS.has(name) &&
      !options.allowedHosts.includes(name) &&
      !options.allowedHosts.includes(host)
    ) {
      return new GatewayError('forbidden_origin', `Forbidden: host ${JSON.stringify(host)} is not allowed`);
    }
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return new GatewayError('forbidden_origin', 'Forbidden: malformed Origin');
    }
    if (!LOOPBACK_HOSTS.has(url.hostname) && !options.allowedOrigins.includes(url.origin)) {
      return new GatewayError(
        'forbidden_origin',
        `Forbidden: origin ${JSON.stringify(url.origin)} is not allowed`,
      );
    }
  } else if (origin === 'null') {
    return new GatewayError('forbidden_origin', 'Forbidden: opaque origin');
  }
  return undefined;
}

/** Reads the whole body as text, refusing more than `limit` bytes with 413. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(new GatewayError('body_too_large', `Request body exceeds ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new GatewayError('body_too_large', `Request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    req.once('error', reject);
  });
}

export function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept;
  if (!accept) return false;
  return accept.includes(type) || accept.includes('*/*');
}

export function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type);
}

// An HTTPS server on loopback that serves JSON documents (e.g. a Client ID Metadata Document,
// which must be fetched over HTTPS), with a self-signed certificate made by the system's
// `openssl`, and a fetch function that trusts exactly that certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DocumentServer {
  /** e.g. `https://127.0.0.1:43123` */
  origin: string;
  /** Serves `body` as JSON at `path` (from now on). */
  serve(path: string, body: unknown): void;
  /** How many times each path was fetched. */
  hits: Map<string, number>;
  /** A fetch that trusts this server's certificate (and only for this server is it needed). */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Whether `openssl` can make the certificate here; tests that need it skip without it. */
export const haveOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export async function startDocumentServer(): Promise<DocumentServer> {
  const { key, cert } = selfSigned();
  const documents = new Map<string, string>();
  const hits = new Map<string, number>();
  const server = https.createServer({ key, cert }, (req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = documents.get(path);
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (path, body) => documents.set(path, JSON.stringify(body)),
    hits,
    fetch: (input, init) => trustingFetch(cert, input, init),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'] //
        .concat([
          '-keyout',
          key,
          '-out',
          cert,
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ]),
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A GET-only fetch over node:https that trusts `ca` (global fetch cannot be given a CA). */
function trustingFetch(ca: string, input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = input instanceof Request ? input.url : String(input);
  return new Promise<Response>((resolve, reject) => {
    const req = https.get(url, { ca, headers: Object.fromEntries(new Headers(init?.headers)) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of [value ?? []].flat()) headers.append(name, v);
        }
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers }));
      });
    });
    req.on('error', reject);
    init?.signal?.addEventListener('abort', () => req.destroy(init.signal?.reason), { once: true });
  });
}

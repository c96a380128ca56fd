// The floor for a Node hop: a plain byte-forwarding HTTP proxy. It parses no body, forwards
// headers as they are, and reuses upstream connections through a keep-alive agent.
//
// Run: node bench/byte-pipe.ts <upstream-origin> [port]
//   (prints "byte pipe listening on http://127.0.0.1:PORT")
import http from 'node:http';

export function startBytePipe(upstreamOrigin: string, port = 0): Promise<http.Server> {
  const upstream = new URL(upstreamOrigin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const up = http.request(
      {
        host: upstream.hostname,
        port: Number(upstream.port),
        path: req.url,
        method: req.method,
        headers: req.headers,
        agent,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (import.meta.main) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: node bench/byte-pipe.ts <upstream-origin> [port]');
    process.exit(2);
  }
  const server = await startBytePipe(target, Number(process.argv[3] ?? 0));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`byte pipe listening on http://127.0.0.1:${port}`);
  process.on('SIGTERM', () => process.exit(0));
}

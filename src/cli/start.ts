// `gatehouse start`: load the config, start the gateway, print how to connect, reload on SIGHUP
// or when the file or the secret store changes (a bad file keeps the running config), drain on
// SIGINT/SIGTERM.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { startGateway } from '../gateway.ts';
import { watchFiles } from './watch.ts';

/** Files whose change means the config must be read again. */
const watched = (file: string, config: Config) => (config.secrets ? [file, config.secrets.store] : [file]);

export async function runStart(file: string): Promise<number> {
  const config = await loadConfig(file);
  const gateway = await startGateway(config);
  const endpoint = `${gateway.url}/mcp`;
  const virtual = Object.keys(config.virtualServers)
    .map((name) => `  ${endpoint}/${name}\n`)
    .join('');
  process.stdout.write(
    `Gatehouse is listening on ${endpoint}\n` +
      (virtual ? `Virtual servers:\n${virtual}` : '') +
      `Upstreams: ${Object.keys(config.upstreams).join(', ')}\n\n` +
      'Connect a client:\n' +
      `  Claude Code:     claude mcp add --transport http gatehouse ${endpoint}\n` +
      `  VS Code:         add to .vscode/mcp.json: {"servers": {"gatehouse": {"type": "http", "url": "${endpoint}"}}}\n` +
      `  Cursor:          add to ~/.cursor/mcp.json: {"mcpServers": {"gatehouse": {"url": "${endpoint}"}}}\n` +
      `  MCP Inspector:   npx @modelcontextprotocol/inspector  (transport "Streamable HTTP", URL ${endpoint})\n` +
      `  stdio-only:      ${process.execPath} ${fileURLToPath(new URL('./main.ts', import.meta.url))} connect ${endpoint}\n`,
  );

  let reloading = Promise.resolve();
  const reload = (why: string) => {
    reloading = reloading.then(async () => {
      try {
        const next = await loadConfig(file);
        gateway.reload(next);
        files.update(watched(file, next));
        gateway.log(`config reloaded (${why})`);
      } catch (err) {
        const text = err instanceof ConfigError ? err.message : String(err);
        gateway.log(`config NOT reloaded (${why}); keeping the running config:\n${text}`, { level: 'error' });
      }
    });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  // A rotated secret (`gatehouse secrets rotate`) reaches upstreams by the same reload: only the
  // upstreams whose resolved config changed are replaced, after their calls in flight finish.
  const files = watchFiles(
    watched(file, config),
    (changed) => reload(changed === file ? 'file changed' : 'secret store changed'),
    (line) => gateway.log(line, { level: 'warn' }),
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      gateway.log(`${signal}: draining calls in flight, then stopping`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  files.close();
  await gateway.close();
  return 0;
}

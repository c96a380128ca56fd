// `gatehouse start`: load the config, start the gateway, print how to connect, reload on SIGHUP
// or when the file changes (a bad file keeps the running config), drain on SIGINT/SIGTERM.
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { startGateway } from '../gateway.ts';

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
        gateway.reload(await loadConfig(file));
        process.stderr.write(`config reloaded (${why})\n`);
      } catch (err) {
        const text = err instanceof ConfigError ? err.message : String(err);
        process.stderr.write(`config NOT reloaded (${why}); keeping the running config:\n${text}\n`);
      }
    });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  let debounce: NodeJS.Timeout | undefined;
  // Watch the directory, not the file: editors and Kubernetes config maps replace the file by
  // rename, after which a watch on the old file would never fire again. A config map swaps its
  // `..data` symlink rather than touching the file's own name.
  const watcher = watch(dirname(file), (_event, name) => {
    if (name !== basename(file) && name !== '..data') return;
    clearTimeout(debounce);
    debounce = setTimeout(() => reload('file changed'), 200);
  });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`${signal}: draining calls in flight, then stopping\n`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  watcher.close();
  clearTimeout(debounce);
  await gateway.close();
  return 0;
}

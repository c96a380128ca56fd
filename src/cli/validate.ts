// `gatehouse validate FILE [--connect]`: exit 0 and a summary if the file is good, else the
// problems and exit 1. With --connect it also starts every upstream once, as a session would,
// and checks what only the upstreams' own lists can show: names two servers both offer under
// `naming.prefix: never`, and upstreams that cannot be reached.
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { compilePolicy } from '../policy/engine.ts';
import { viewFor } from '../route/catalog.ts';
import { Session } from '../session/session.ts';
import { SharedUpstreams } from '../upstream/shared.ts';

export async function runValidate(file: string, connect = false): Promise<number> {
  let config: Config;
  try {
    config = await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  const upstreams = Object.keys(config.upstreams);
  const virtual = Object.keys(config.virtualServers);
  process.stdout.write(
    `${file}: OK — ${upstreams.length} upstream(s): ${upstreams.join(', ')}` +
      (virtual.length > 0 ? `; virtual servers: ${virtual.join(', ')}` : '') +
      '\n',
  );
  return connect ? checkUpstreams(config, file) : 0;
}

async function checkUpstreams(config: Config, file: string): Promise<number> {
  const problems: string[] = [];
  const shared = new SharedUpstreams(() => {});
  const policy = compilePolicy(config.policy);
  for (const name of [undefined, ...Object.keys(config.virtualServers)]) {
    const endpoint = name === undefined ? '/mcp' : `/mcp/${name}`;
    const session = new Session({
      id: `validate${endpoint}`,
      config,
      view: viewFor(config, name)!,
      protocolVersion: '2025-11-25',
      clientCapabilities: {},
      clientInfo: { name: 'gatehouse validate' },
      shared,
      policy: () => policy,
      log: () => {},
    });
    try {
      await session.connectAll();
      for (const u of session.upstreamStatus()) {
        if (u.connected) continue;
        const upstream = config.upstreams[u.name];
        // Such an upstream answers only with a user's token, and validation has no user.
        if (upstream && upstream.transport !== 'stdio' && upstream.onBehalfOf) {
          process.stdout.write(
            `${endpoint}: upstream "${u.name}" acts for each user; not checked without one\n`,
          );
          continue;
        }
        problems.push(`${endpoint}: upstream "${u.name}" cannot be reached: ${u.error ?? 'no answer'}`);
      }
      const catalog = await session.catalog();
      for (const c of catalog.collisions) {
        problems.push(`${endpoint}: ${c}; set naming.prefix to "on-collision" or "always", or rename one`);
      }
      process.stdout.write(
        `${endpoint}: ${catalog.tools.length} tools, ${catalog.prompts.length} prompts, ` +
          `${catalog.resources.length} resources, ${catalog.resourceTemplates.length} resource templates\n`,
      );
    } finally {
      await session.close();
    }
  }
  await shared.closeAll();
  for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
  return problems.length > 0 ? 1 : 0;
}

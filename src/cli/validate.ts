// `gatehouse validate FILE`: exit 0 and a summary if the file is good, else the problems.
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';

export async function runValidate(file: string): Promise<number> {
  try {
    const config = await loadConfig(file);
    const upstreams = Object.keys(config.upstreams);
    const virtual = Object.keys(config.virtualServers);
    process.stdout.write(
      `${file}: OK — ${upstreams.length} upstream(s): ${upstreams.join(', ')}` +
        (virtual.length > 0 ? `; virtual servers: ${virtual.join(', ')}` : '') +
        '\n',
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

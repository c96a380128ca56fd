// `gatehouse policy explain`: the decision for one principal and target, and every rule that
// matched or did not and why — from the config file alone, without a running gateway.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import { compilePolicy } from '../policy/engine.ts';
import { explain } from '../policy/explain.ts';
import type { Target } from '../policy/types.ts';

const USAGE = `Usage: gatehouse policy explain [--config FILE] --target tool:NAME|prompt:NAME|resource:URI
         [--server UPSTREAM] [--virtual-server NAME] [--role R]... [--group G]... [--team T]...
         [--user U] [--agent A] [--args '{"key": "value"}'] [--annotations '{"destructiveHint": true}']
         [--at 2026-11-22T10:00:00Z]
`;

export async function runPolicy(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals[0] !== 'explain' || !values.target) {
    process.stderr.write(USAGE);
    return 2;
  }
  const match = /^(tool|prompt|resource):(.+)$/.exec(values.target);
  if (!match) {
    process.stderr.write(`--target must look like tool:NAME, prompt:NAME or resource:URI\n${USAGE}`);
    return 2;
  }
  let args: unknown;
  let annotations: Record<string, unknown> | undefined;
  try {
    args = values.args === undefined ? undefined : JSON.parse(values.args);
    annotations = values.annotations === undefined ? undefined : JSON.parse(values.annotations);
  } catch {
    process.stderr.write('--args and --annotations must be JSON\n');
    return 2;
  }
  const file = values.config ?? 'gatehouse.yaml';
  try {
    const config = await loadConfig(file);
    const principal: Principal = {
      kind: 'api-key',
      roles: values.role ?? [],
      groups: values.group ?? [],
      teams: values.team ?? [],
      ...(values.user ? { user: values.user } : {}),
      ...(values.agent ? { agent: values.agent } : {}),
    };
    const target: Target = {
      kind: match[1] as Target['kind'],
      name: match[2]!,
      server: values.server ?? '',
      virtualServer: values['virtual-server'] ?? '/',
      ...(annotations ? { annotations } : {}),
    };
    const now = values.at ? new Date(values.at) : new Date();
    process.stdout.write(`${explain(compilePolicy(config.policy), principal, target, args, { now })}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      target: { type: 'string' },
      server: { type: 'string' },
      'virtual-server': { type: 'string' },
      role: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
      team: { type: 'string', multiple: true },
      user: { type: 'string' },
      agent: { type: 'string' },
      args: { type: 'string' },
      annotations: { type: 'string' },
      at: { type: 'string' },
    },
  });
}

#!/usr/bin/env node
// The `gatehouse` command: start, validate, connect.
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.ts';
import { runAudit } from './audit.ts';
import { runConnect } from './connect.ts';
import { runKeys } from './keys.ts';
import { runPolicy } from './policy.ts';
import { runSecrets } from './secrets.ts';
import { runStart } from './start.ts';
import { runValidate } from './validate.ts';

const USAGE = `Usage:
  gatehouse start [--config FILE]   start the gateway (default config: ./gatehouse.yaml)
  gatehouse validate FILE [--connect]
                                    check a config file and explain any problem; with --connect,
                                    also start each upstream once and check names and reachability
  gatehouse keys create --name NAME [--role R]... [--team T] [--virtual-server V]... [--expires 30d]
  gatehouse keys list | keys revoke ID|NAME      [--store FILE] (default ./gatehouse-keys.json)
                                    manage the API keys agents authenticate with
  gatehouse secrets set NAME | secrets rotate NAME | secrets list | secrets new-key
                                    [--config FILE | --store FILE] the encrypted secret store that
                                    \${secret:NAME} reads; values are read from stdin, never printed
  gatehouse policy explain --target tool:NAME [--role R]... [--args JSON] [--config FILE]
                                    how the policy decides for one principal and target, and why
  gatehouse audit verify | audit search [filters] | audit export --format jsonl|csv [filters]
                                    [--config FILE] check the audit trail's hash chains, search it,
                                    export it (gatehouse audit --help for the filters)
  gatehouse connect URL [--header "Name: value"]...   (\${NAME} in a value reads the environment)
                                    bridge stdio to a gateway URL, for clients that only speak stdio
`;

async function main(argv: string[]): Promise<number> {
  // `keys` has options of its own (--name, --role, ...), parsed by its command.
  if (argv[0] === 'keys') return runKeys(argv.slice(1));
  if (argv[0] === 'policy') return runPolicy(argv.slice(1));
  if (argv[0] === 'secrets') return runSecrets(argv.slice(1));
  if (argv[0] === 'audit') return runAudit(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      header: { type: 'string', multiple: true },
      connect: { type: 'boolean' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'start':
      return runStart(values.config ?? arg ?? 'gatehouse.yaml');
    case 'validate':
      return runValidate(arg ?? values.config ?? 'gatehouse.yaml', values.connect === true);
    case 'connect':
      if (!arg) break;
      return runConnect(arg, values.header ?? []);
  }
  process.stderr.write(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `gatehouse: ${String(err)}\n`);
    process.exitCode = 1;
  },
);

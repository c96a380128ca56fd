// `gatehouse secrets set|rotate|list|new-key`: the encrypted local secret store that
// `${secret:NAME}` in the config reads. Values come from stdin only, never from arguments (which
// shell history and `ps` show), and nothing here ever prints one. A running gateway watches the
// store file, so a rotation reaches it without a restart.
import { parseArgs } from 'node:util';
import { readSecretsConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { loadMasterKey, newMasterKey } from '../secrets/cipher.ts';
import { type SecretInfo, type SecretStore, SecretStoreError, secretStore } from '../secrets/store.ts';

const USAGE = `Usage:
  gatehouse secrets set NAME        store a secret, or a new version of it; the value is read from stdin
  gatehouse secrets rotate NAME     replace an existing secret (value from stdin); a running gateway
                                    reloads and new upstream connections use the new value
  gatehouse secrets list            names, versions and update times (never values)
  gatehouse secrets new-key         print a fresh random master key (64 hex characters)
Options: --config FILE (default ./gatehouse.yaml: its secrets section names the store and the master
key), or --store FILE with the master key in $GATEHOUSE_MASTER_KEY.
`;

export interface SecretsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** All of stdin (a terminal is read as one hidden line). */
  stdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
}

const processIo: SecretsIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: readStdin,
  env: process.env,
};

/** `argv` is what follows `secrets`. Exit codes: 0 done, 1 failed, 2 usage error. */
export async function runSecrets(argv: string[], io: SecretsIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`gatehouse secrets: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [command, name, ...extra] = positionals;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const usage = (why: string) => {
    io.stderr(`gatehouse secrets: ${why}\n${USAGE}`);
    return 2;
  };
  const takesName = command === 'set' || command === 'rotate';
  if (!command) return usage('missing command');
  if (!['set', 'rotate', 'list', 'new-key'].includes(command)) return usage(`unknown command ${command}`);
  if (takesName && !name) return usage(`${command} needs the secret's name (the value is read from stdin)`);
  if (extra.length > 0 || (!takesName && name !== undefined)) return usage('too many arguments');
  if (values.store !== undefined && values.config !== undefined)
    return usage('use --config or --store, not both');
  if (command === 'new-key') {
    io.stdout(`${newMasterKey()}\n`);
    io.stderr('Keep it apart from the store: in the variable or file secrets.masterKey names, mode 0600.\n');
    return 0;
  }
  try {
    const store = await openStore(values, io.env);
    if (command === 'list') {
      io.stdout(table(store.list()));
      return 0;
    }
    const value = (await io.stdin()).replace(/\r?\n$/, '');
    if (value === '') {
      io.stderr(`gatehouse secrets: no value on stdin for ${name}; nothing was changed\n`);
      return 1;
    }
    if (command === 'set') {
      const info = store.set(name!, value);
      io.stdout(`Set secret ${info.name} (version ${info.version}).\n`);
      return 0;
    }
    const info = store.rotate(name!, value);
    if (!info) {
      io.stderr(
        `gatehouse secrets: no secret named ${name} in ${store.path}; create it with gatehouse secrets set\n`,
      );
      return 1;
    }
    io.stdout(`Rotated secret ${info.name} to version ${info.version}.\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof SecretStoreError || err instanceof ConfigError)) throw err;
    io.stderr(`gatehouse secrets: ${err.message}\n`);
    return 1;
  }
}

/** The store and key the config's secrets section names, or --store with $GATEHOUSE_MASTER_KEY. */
async function openStore(
  values: { config?: string; store?: string },
  env: NodeJS.ProcessEnv,
): Promise<SecretStore> {
  if (values.store !== undefined) {
    return secretStore(values.store, loadMasterKey({ env: 'GATEHOUSE_MASTER_KEY' }, env));
  }
  const file = values.config ?? 'gatehouse.yaml';
  const section = await readSecretsConfig(file, env);
  if (!section) {
    throw new ConfigError(
      `${file} has no secrets section (store and masterKey); add one, or use --store FILE with $GATEHOUSE_MASTER_KEY`,
    );
  }
  return secretStore(section.store, loadMasterKey(section.masterKey, env));
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function table(secrets: SecretInfo[]): string {
  if (secrets.length === 0) return 'No secrets.\n';
  const width = Math.max(4, ...secrets.map((s) => s.name.length));
  const rows = [
    ['NAME', 'VERSION', 'UPDATED'],
    ...secrets.map((s) => [s.name, String(s.version), s.updated]),
  ];
  return rows.map(([n, v, u]) => `${n!.padEnd(width)}  ${v!.padEnd(7)}  ${u}`).join('\n') + '\n';
}

/** Piped stdin is read whole; at a terminal, one line is read without echoing it. */
async function readStdin(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  process.stderr.write('Value (not shown), then Enter: ');
  stdin.setRawMode(true);
  let line = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of (chunk as Buffer).toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return line;
        if (ch === '\u0003') throw new SecretStoreError('cancelled; nothing was changed');
        line = ch === '\u007f' || ch === '\b' ? line.slice(0, -1) : line + ch;
      }
    }
    return line;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

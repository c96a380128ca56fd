// `gatehouse keys create|list|revoke`: API keys for agents, in the key file the gateway reads
// (`--store`, else $GATEHOUSE_KEYS_FILE, else ./gatehouse-keys.json). A running gateway notices
// changes to the file on the next request, so a revocation needs no restart.
import { parseArgs } from 'node:util';
import { createKeyStore, type KeyInfo, KeyStoreError } from '../identity/key-store.ts';

const USAGE = `Usage:
  gatehouse keys create --name NAME [--role R]... [--team T] [--virtual-server V]...
                        [--expires 30d|12h|ISO-DATE] [--store FILE]
                                    create a key; it is printed once and cannot be shown again
  gatehouse keys list [--store FILE]
                                    list keys (never their secrets)
  gatehouse keys revoke ID|NAME [--store FILE]
                                    revoke a key; a running gateway refuses it from the next request
The key file is --store, else $GATEHOUSE_KEYS_FILE, else ./gatehouse-keys.json.
`;

export interface KeysIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => number;
}

const processIo: KeysIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: Date.now,
};

/** `argv` is what follows `keys`. Exit codes: 0 done, 1 failed, 2 usage error. */
export async function runKeys(argv: string[], io: KeysIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`gatehouse keys: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [command, target, ...extra] = positionals;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const usage = (why: string) => {
    io.stderr(`gatehouse keys: ${why}\n${USAGE}`);
    return 2;
  };
  if (extra.length > 0 || (command !== 'revoke' && target !== undefined)) return usage('too many arguments');
  const store = createKeyStore({
    path: values.store ?? (io.env['GATEHOUSE_KEYS_FILE'] || 'gatehouse-keys.json'),
    now: io.now,
  });
  try {
    switch (command) {
      case 'create': {
        if (!values.name) return usage('create needs --name');
        let expiresAt: Date | undefined;
        if (values.expires !== undefined) {
          expiresAt = parseExpires(values.expires, io.now());
          if (!expiresAt) return usage(`--expires ${values.expires}: use 30d, 12h, 45m or an ISO date`);
        }
        const { key, info } = store.create({
          name: values.name,
          roles: values.role ?? [],
          ...(values.team === undefined ? {} : { team: values.team }),
          ...(values['virtual-server'] === undefined ? {} : { virtualServers: values['virtual-server'] }),
          ...(expiresAt === undefined ? {} : { expiresAt }),
        });
        io.stdout(`${key}\n`);
        io.stderr(
          `Created key ${info.id} (${info.name})${info.expiresAt ? `, expires ${info.expiresAt}` : ''}.\n` +
            'This is the only time the key is shown: store it now. Agents send it as\n' +
            '  Authorization: Bearer <key>\n',
        );
        return 0;
      }
      case 'list':
        io.stdout(table(store.list()));
        return 0;
      case 'revoke': {
        if (!target) return usage('revoke needs a key id or name');
        const result = store.revoke(target);
        if (result.ok) {
          const { key } = result;
          io.stdout(
            result.alreadyRevoked
              ? `Key ${key.id} (${key.name}) was already revoked at ${key.revokedAt}.\n`
              : `Revoked key ${key.id} (${key.name}).\n`,
          );
          return 0;
        }
        if (result.reason === 'ambiguous') {
          const ids = result.matches.map((k) => k.id).join(', ');
          io.stderr(`gatehouse keys: several live keys are named ${target} (${ids}); revoke one by id\n`);
        } else {
          io.stderr(`gatehouse keys: no key with id or name ${target}\n`);
        }
        return 1;
      }
      default:
        return usage(command ? `unknown command ${command}` : 'missing command');
    }
  } catch (err) {
    if (!(err instanceof KeyStoreError)) throw err;
    io.stderr(`gatehouse keys: ${err.message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string', multiple: true },
      team: { type: 'string' },
      'virtual-server': { type: 'string', multiple: true },
      expires: { type: 'string' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `45m` from now, or an ISO date with a time zone or a plain date (UTC midnight). */
export function parseExpires(text: string, nowMs: number): Date | undefined {
  const relative = /^([1-9]\d{0,5})([mhd])$/.exec(text);
  if (relative) return new Date(nowMs + Number(relative[1]) * UNIT_MS[relative[2]!]!);
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function table(keys: KeyInfo[]): string {
  if (keys.length === 0) return 'No keys.\n';
  const rows = [
    ['ID', 'NAME', 'STATUS', 'ROLES', 'TEAM', 'VIRTUAL SERVERS', 'CREATED', 'EXPIRES'],
    ...keys.map((k) => [
      k.id,
      k.name,
      k.status,
      k.roles.join(',') || '-',
      k.team ?? '-',
      k.virtualServers?.join(',') ?? '(all)',
      k.createdAt,
      k.expiresAt ?? 'never',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

// `gatehouse audit verify|search|export`: the audit trail in the store the config names
// (`audit.store`), read directly, without a running gateway.
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { queryOf } from '../admin/audit-api.ts';
import { exportRecords } from '../audit/export.ts';
import { openAuditStore } from '../audit/open-store.ts';
import type { StoreConfig } from '../audit/schema.ts';
import type { AuditQuery, AuditStore } from '../audit/store.ts';
import { verifyChain } from '../audit/verify.ts';
import { loadConfig } from '../config/load.ts';
import { GatewayError } from '../errors.ts';
import { recordTable, verifyLine } from './audit-format.ts';

const USAGE = `Usage:
  gatehouse audit verify [--config FILE] [--instance I]
                                    check each instance's hash chain; exit 1 naming the first
                                    record edited, deleted, inserted or reordered
  gatehouse audit search [--config FILE] [filters] [--limit N] [--format table|jsonl|csv]
                                    matching records, oldest first (default: the first 100)
  gatehouse audit export --format jsonl|csv [--config FILE] [filters] [--out FILE]
                                    every matching record, streamed (to stdout without --out)
Filters: --from ISO --to ISO --agent A --user U --team T --tool NAME --method M
         --outcome ok|error|denied|blocked --trace ID --instance I
`;

const FILTERS = {
  from: 'from',
  to: 'to',
  agent: 'agent',
  user: 'user',
  team: 'team',
  tool: 'target',
  method: 'method',
  outcome: 'outcome',
  trace: 'traceId',
  instance: 'instance',
  limit: 'limit',
} as const;

/** `argv` is what follows `audit`. Exit codes: 0 done (chains intact), 1 failed, 2 usage error. */
export async function runAudit(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  let q: AuditQuery;
  try {
    parsed = parse(argv);
    const params = new URLSearchParams();
    for (const [flag, param] of Object.entries(FILTERS)) {
      const value = parsed.values[flag as keyof typeof FILTERS];
      if (value !== undefined) params.set(param, value);
    }
    q = queryOf(params);
  } catch (err) {
    if (
      !(err instanceof GatewayError) &&
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true
    )
      throw err;
    process.stderr.write(`gatehouse audit: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  const usage = (why: string) => {
    process.stderr.write(`gatehouse audit: ${why}\n${USAGE}`);
    return 2;
  };
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (extra.length > 0) return usage('too many arguments');
  const format = values.format;
  if (command === 'search' && format !== undefined && !['table', 'jsonl', 'csv'].includes(format))
    return usage('--format: table, jsonl or csv');
  if (command === 'export' && format !== 'jsonl' && format !== 'csv')
    return usage('export needs --format jsonl|csv');
  if (command !== 'verify' && command !== 'search' && command !== 'export')
    return usage(command ? `unknown command ${command}` : 'missing command');

  const config = (await loadConfig(values.config ?? 'gatehouse.yaml')).audit.store;
  const missing = missingDatabase(config);
  if (missing) {
    process.stderr.write(`gatehouse audit: ${missing}\n`);
    return 1;
  }
  // In this thread: the CLI serves nothing else while it reads, so a worker would only add start-up.
  const store = await openAuditStore(config, { inThread: true });
  try {
    if (command === 'verify') return await verify(store, values.instance);
    if (command === 'search' && (format ?? 'table') === 'table') return await search(store, q);
    return await exportTo(
      store,
      command === 'search' ? { limit: 100, ...q } : q,
      format as 'jsonl' | 'csv',
      values.out,
    );
  } catch (err) {
    process.stderr.write(`gatehouse audit: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

/** Reading a SQLite file that is not there would create an empty one, and call that intact. */
function missingDatabase(config: StoreConfig): string | undefined {
  if (config.type !== 'sqlite' || existsSync(config.file)) return undefined;
  return `no audit database at ${config.file} (audit.store.file)`;
}

async function verify(store: AuditStore, only: string | undefined): Promise<number> {
  const instances = only === undefined ? await store.instances() : [only];
  if (instances.length === 0) {
    process.stdout.write('No audit records.\n');
    return 0;
  }
  let failed = 0;
  for (const instance of instances) {
    const result = await verifyChain(store.chain(instance));
    if (!result.ok) failed++;
    process.stdout.write(`${verifyLine(instance, result)}\n`);
  }
  return failed === 0 ? 0 : 1;
}

async function search(store: AuditStore, q: AuditQuery): Promise<number> {
  const limit = q.limit ?? 100;
  const records = [];
  // One more than asked tells whether there is more.
  for await (const r of store.query({ ...q, limit: limit + 1 })) records.push(r);
  const more = records.length > limit;
  if (more) records.pop();
  process.stdout.write(recordTable(records));
  if (more) process.stderr.write(`(more records match: raise --limit, or use gatehouse audit export)\n`);
  return 0;
}

async function exportTo(store: AuditStore, q: AuditQuery, format: 'jsonl' | 'csv', file?: string) {
  // Audit records are for the people allowed to read the store: the file is the owner's only.
  const out: Writable = file === undefined ? process.stdout : createWriteStream(file, { mode: 0o600 });
  try {
    const count = await exportRecords(store.query(q), out, format);
    if (file !== undefined) {
      out.end();
      await once(out, 'close');
      process.stderr.write(`Exported ${count} record${count === 1 ? '' : 's'} to ${file}.\n`);
    }
    return 0;
  } catch (err) {
    // A reader that stopped early (`| head`) is not a failure.
    if ((err as { code?: string }).code === 'EPIPE') return 0;
    throw err;
  }
}

function parse(argv: string[]) {
  const text = { type: 'string' } as const;
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      format: text,
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
      from: text,
      to: text,
      agent: text,
      user: text,
      team: text,
      tool: text,
      method: text,
      outcome: text,
      trace: text,
      instance: text,
      limit: text,
    },
  });
}

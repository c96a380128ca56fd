// The store the config names. The PostgreSQL store connects on first use (and again after the
// server comes back), so a gateway starts while its database is down and spools meanwhile.
// SQLite runs in a worker thread by default (sqlite-worker-store.ts), so its synchronous work
// stays off the event loop; a one-shot reader that serves nothing else meanwhile (the
// `gatehouse audit` CLI) may run it in its own thread and skip the worker's start-up.

import { openPostgresAuditStore } from './postgres-store.ts';
import type { StoreConfig } from './schema.ts';
import { openSqliteAuditStore } from './sqlite-store.ts';
import { openSqliteWorkerStore } from './sqlite-worker-store.ts';
import type { AuditStore } from './store.ts';

export interface OpenStoreOptions {
  /** SQLite: run the store in this thread instead of a worker (default false). */
  inThread?: boolean;
  /** Where the store reports trouble it handles itself (a SQLite worker that died). */
  log?: (line: string) => void;
}

export async function openAuditStore(
  config: StoreConfig,
  options: OpenStoreOptions = {},
): Promise<AuditStore> {
  switch (config.type) {
    case 'sqlite':
      if (options.inThread) return openSqliteAuditStore(config.file);
      return openSqliteWorkerStore(config.file, options.log ? { log: options.log } : {});
    case 'postgres':
      return openPostgresAuditStore({ url: config.url, table: config.table });
  }
}

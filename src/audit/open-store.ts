// The store the config names. The PostgreSQL store connects on first use (and again after the
// server comes back), so a gateway starts while its database is down and spools meanwhile.

import { openPostgresAuditStore } from './postgres-store.ts';
import type { StoreConfig } from './schema.ts';
import { openSqliteAuditStore } from './sqlite-store.ts';
import type { AuditStore } from './store.ts';

export async function openAuditStore(config: StoreConfig): Promise<AuditStore> {
  switch (config.type) {
    case 'sqlite':
      return openSqliteAuditStore(config.file);
    case 'postgres':
      return openPostgresAuditStore({ url: config.url, table: config.table });
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { storeContract } from '../../test/helpers/audit-store-contract.ts';
import { openSqliteAuditStore } from './sqlite-store.ts';

storeContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-sqlite-'));
  const file = join(dir, 'audit.db');
  const store = openSqliteAuditStore(file);
  return {
    dialect: 'sqlite',
    store,
    async sql(text, ...params) {
      const db = new DatabaseSync(file);
      try {
        db.prepare(text.replaceAll('{t}', 'audit').replace(/\$(\d+)/g, '?$1')).run(...(params as string[]));
      } finally {
        db.close();
      }
    },
    reopen: async () => openSqliteAuditStore(file),
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

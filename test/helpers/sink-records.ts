// Audit records as the writer hands them to sinks (kept, with their chain fields), for sink tests.
import { newRecordId, type StoredRecord } from '../../src/audit/record.ts';

let seq = 0;

export function storedRecord(overrides: Partial<StoredRecord> = {}): StoredRecord {
  seq++;
  return {
    id: newRecordId(),
    time: new Date().toISOString(),
    instance: 'gw-test-1',
    principal: { kind: 'api-key', agent: 'build-bot', user: 'alice', teams: ['platform'], keyId: 'k1' },
    method: 'tools/call',
    target: 'files__read',
    arguments: { path: '/etc/motd' },
    outcome: 'ok',
    latencyMs: 12.5,
    upstreamMs: 10,
    responseBytes: 321,
    seq,
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    ...overrides,
  };
}

export function storedRecords(count: number, overrides: Partial<StoredRecord> = {}): StoredRecord[] {
  return Array.from({ length: count }, () => storedRecord(overrides));
}

/** Polls `check` every 20 ms until it is true; fails with `what` after `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

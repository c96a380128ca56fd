// Opens many MCP sessions (initialize + notifications/initialized) and never closes them, to
// see what an idle session costs the gateway in memory.
import { openSession } from './mcp-client.ts';

export interface SessionsOutcome {
  opened: number;
  failed: number;
  firstError: string | undefined;
  elapsedMs: number;
}

/** Opens `count` sessions, `concurrency` at a time; stops early once `deadlineMs` has passed. */
export async function openIdleSessions(
  endpoint: string,
  count: number,
  concurrency: number,
  deadlineMs: number,
): Promise<SessionsOutcome> {
  const started = Date.now();
  let next = 0;
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < count && Date.now() - started < deadlineMs) {
      const n = next++;
      try {
        await openSession(endpoint, n + 1);
        opened++;
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { opened, failed, firstError, elapsedMs: Date.now() - started };
}

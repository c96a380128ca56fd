// Call deadlines on one shared clock. A setTimeout per forwarded call was measured to cost more
// than routing the call: timer objects outlive young-generation collections and drag other
// per-call objects into the old generation with them. One ticker checks every deadline instead;
// a deadline fires at most TICK_MS late, which is nothing against timeouts counted in seconds.

import { IdTable } from '../id-table.ts';

const TICK_MS = 100;

export interface Deadline {
  /** Epoch milliseconds after which `expire` runs. */
  at: number;
  expire(): void;
  /** Set by `watch`. */
  key?: number;
}

const watched = new IdTable<Deadline>();
let nextKey = 0;
let ticker: NodeJS.Timeout | undefined;

export function watch(deadline: Deadline): void {
  deadline.key = ++nextKey;
  watched.set(deadline.key, deadline);
  if (!ticker) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref();
  }
}

export function unwatch(deadline: Deadline): void {
  if (deadline.key !== undefined) watched.delete(deadline.key);
}

function tick(): void {
  const now = Date.now();
  for (const d of watched.values()) {
    if (d.at > now) continue;
    unwatch(d);
    d.expire();
  }
  if (watched.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

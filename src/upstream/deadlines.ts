// Call deadlines on one shared clock. A setTimeout per forwarded call was measured to cost more
// than routing the call: timer objects outlive young-generation collections and drag other
// per-call objects into the old generation with them. One ticker checks every deadline instead;
// a deadline fires at most TICK_MS late, which is nothing against timeouts counted in seconds.

const TICK_MS = 100;

export interface Deadline {
  /** Epoch milliseconds after which `expire` runs. */
  at: number;
  expire(): void;
}

const watched = new Set<Deadline>();
let ticker: NodeJS.Timeout | undefined;

export function watch(deadline: Deadline): void {
  watched.add(deadline);
  if (!ticker) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref();
  }
}

export function unwatch(deadline: Deadline): void {
  watched.delete(deadline);
}

function tick(): void {
  const now = Date.now();
  for (const d of watched) {
    if (d.at > now) continue;
    watched.delete(d);
    d.expire();
  }
  if (watched.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

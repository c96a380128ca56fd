// Live sessions: looked up by id, bounded in number, closed after an idle TTL. Closing a
// session closes its upstream sessions (and so stops their child processes).
import { randomBytes } from 'node:crypto';
import type { Channel } from '../transport/channel.ts';
import type { Session } from './session.ts';

export interface Entry {
  session: Session;
  channel: Channel;
}

export class SessionRegistry {
  #entries = new Map<string, Entry>();
  #idleTtlMs: number;
  #max: number;
  #sweeper: NodeJS.Timeout;

  constructor(options: { idleTtlMs: number; max: number }) {
    this.#idleTtlMs = options.idleTtlMs;
    this.#max = options.max;
    this.#sweeper = this.#startSweeper();
  }

  /** Sweeps at a quarter of the TTL (bounded), so a session outlives its TTL by at most that. */
  #startSweeper(): NodeJS.Timeout {
    const timer = setInterval(() => this.sweep(), Math.min(30_000, Math.max(50, this.#idleTtlMs / 4)));
    timer.unref();
    return timer;
  }

  configure(options: { idleTtlMs: number; max: number }): void {
    const changed = options.idleTtlMs !== this.#idleTtlMs;
    this.#idleTtlMs = options.idleTtlMs;
    this.#max = options.max;
    if (changed) {
      clearInterval(this.#sweeper);
      this.#sweeper = this.#startSweeper();
    }
  }

  static newId(): string {
    return randomBytes(18).toString('base64url');
  }

  get size(): number {
    return this.#entries.size;
  }

  get full(): boolean {
    return this.#entries.size >= this.#max;
  }

  get(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry) entry.session.lastSeen = Date.now();
    return entry;
  }

  add(entry: Entry): void {
    this.#entries.set(entry.session.id, entry);
  }

  async delete(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    entry.channel.close();
    await entry.session.close();
  }

  /** Ends sessions idle longer than the TTL; a session with a call in flight is not idle. */
  sweep(): void {
    const cutoff = Date.now() - this.#idleTtlMs;
    for (const [id, { session, channel }] of this.#entries) {
      if (session.busy) continue;
      if (session.lastSeen < cutoff && !channel.hasStandalone) void this.delete(id);
      else if (session.lastSeen < cutoff - this.#idleTtlMs) void this.delete(id); // A forgotten GET stream.
    }
  }

  all(): Entry[] {
    return [...this.#entries.values()];
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.allSettled([...this.#entries.keys()].map((id) => this.delete(id)));
  }
}

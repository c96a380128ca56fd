// Upstreams configured with `share: gateway`: one connection (one child process, for stdio)
// serves every session. Such an upstream is told the client can do nothing (no sampling,
// elicitation or roots), because a request from it could not be tied to one session; its
// unattributed log lines reach nobody, so one session never sees another's.
import type { UpstreamConfig } from '../config/schema.ts';
import type { Notification } from '../jsonrpc.ts';
import { Supervisor } from './supervisor.ts';

export interface SharedListener {
  onNotification(n: Notification): void;
  onRestart(): void;
}

interface Entry {
  supervisor: Supervisor;
  listeners: Set<SharedListener>;
  /** Upstream URI → the sessions subscribed to it through this connection. */
  subscribers: Map<string, Set<SharedListener>>;
}

export class SharedUpstreams {
  #entries = new Map<string, Entry>();
  #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** The shared supervisor for `name`, created (not yet connected) on first use. */
  acquire(name: string, config: UpstreamConfig, listener: SharedListener): Supervisor {
    let entry = this.#entries.get(name);
    if (!entry || JSON.stringify(entry.supervisor.config) !== JSON.stringify(config)) {
      const listeners = new Set<SharedListener>();
      const supervisor = new Supervisor({
        name,
        config,
        init: { capabilities: {}, clientInfo: { name: 'gatehouse', version: '0.1.0' } },
        shared: true,
        log: this.#log,
        hooks: {
          onNotification: (n) => {
            if (n.method === 'notifications/message') return; // No session owns it.
            for (const l of listeners) l.onNotification(n);
          },
          onServerRequest: async () => ({
            error: { code: -32601, message: 'a shared upstream cannot send requests to clients' },
          }),
        },
        onRestart: () => {
          for (const l of listeners) l.onRestart();
        },
      });
      if (entry) void entry.supervisor.retire();
      entry = { supervisor, listeners, subscribers: new Map() };
      this.#entries.set(name, entry);
    }
    entry.listeners.add(listener);
    return entry.supervisor;
  }

  release(name: string, listener: SharedListener): void {
    this.#entries.get(name)?.listeners.delete(listener);
  }

  /**
   * Records that `listener`'s session subscribes to (or leaves) `uri` on a shared upstream.
   * True when the upstream must be told: the first subscriber, or the last to leave.
   */
  follow(name: string, uri: string, listener: SharedListener, subscribe: boolean): boolean {
    const entry = this.#entries.get(name);
    if (!entry) return true;
    let set = entry.subscribers.get(uri);
    if (subscribe) {
      if (!set) {
        set = new Set();
        entry.subscribers.set(uri, set);
      }
      const first = set.size === 0;
      set.add(listener);
      return first;
    }
    if (!set?.delete(listener)) return false;
    if (set.size > 0) return false;
    entry.subscribers.delete(uri);
    return true;
  }

  /** A session leaves a shared upstream: its subscriptions end, and those nobody else holds are unsubscribed. */
  leaveAll(name: string, listener: SharedListener): void {
    const entry = this.#entries.get(name);
    if (!entry) return;
    for (const [uri, set] of entry.subscribers) {
      if (!set.delete(listener) || set.size > 0) continue;
      entry.subscribers.delete(uri);
      const client = entry.supervisor.current;
      void client
        ?.request('resources/unsubscribe', { uri }, { timeoutMs: entry.supervisor.config.timeoutMs })
        .catch(() => {});
    }
  }

  /** After a reload: upstreams removed or changed are retired once their calls finish. */
  reconfigure(upstreams: Readonly<Record<string, UpstreamConfig>>): void {
    for (const [name, entry] of this.#entries) {
      const next = upstreams[name];
      if (next?.share === 'gateway' && JSON.stringify(next) === JSON.stringify(entry.supervisor.config))
        continue;
      this.#entries.delete(name);
      void entry.supervisor.retire();
    }
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map((e) => e.supervisor.close()));
  }
}

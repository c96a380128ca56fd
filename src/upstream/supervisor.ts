// Keeps one upstream connected for one owner (a downstream session, or the shared pool of
// stateless clients): connects on demand, restarts with exponential backoff when the connection
// dies, and closes for good when its owner is done.

import type { UpstreamConfig } from '../config/schema.ts';
import type { Credential } from '../credentials/upstream-credential.ts';
import { GatewayError } from '../errors.ts';
import type { Log } from '../telemetry/logger.ts';
import type { Attribution, InitializeResult, SessionHooks } from './calls.ts';
import { UpstreamClient } from './client.ts';
import { createTransport } from './factory.ts';

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** A connection that lived this long resets the backoff: the crash was not a crash loop. */
const STABLE_MS = 30_000;

export interface SupervisorOptions {
  name: string;
  config: UpstreamConfig;
  init: { capabilities: Record<string, unknown>; clientInfo: Record<string, unknown> };
  hooks: Omit<SessionHooks, 'onClose'>;
  /** Serves every session (`share: gateway`): server messages are tied to a call only exactly. */
  shared?: boolean;
  /** For upstreams that are not shared: how to tie server messages to calls (default `newest`). */
  attribution?: Attribution;
  /** For an upstream that acts for the user: the token its connection carries. */
  credential?: Credential;
  /** A restarted upstream may list different things: the owner refreshes and notifies. */
  onRestart(): void;
  log: Log;
}

export class Supervisor {
  readonly name: string;
  readonly config: UpstreamConfig;
  /** Serves every session (`share: gateway`) rather than one. */
  readonly shared: boolean;
  /** Acts for the calling user (`onBehalfOf`): connects only with that user's token. */
  readonly delegated: boolean;
  #options: SupervisorOptions;
  #client?: UpstreamClient;
  #connecting?: Promise<UpstreamClient>;
  /** The client being connected, so a close does not have to wait for the handshake. */
  #connectingClient?: UpstreamClient;
  #failures = 0;
  #retryAt = 0;
  #restartTimer?: NodeJS.Timeout;
  #closed = false;
  #lastError = '';

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.name = options.name;
    this.config = options.config;
    this.shared = options.shared === true;
    this.delegated = options.credential !== undefined;
  }

  /** The live client, if connected now. */
  get current(): UpstreamClient | undefined {
    return this.#client && !this.#client.closed ? this.#client : undefined;
  }

  /** Why the last connection attempt failed, if it did. */
  get lastError(): string | undefined {
    return this.#lastError || undefined;
  }

  get capabilities(): InitializeResult['capabilities'] | undefined {
    return this.current?.initialized?.capabilities;
  }

  /** Resolves with a connected client, or rejects with `upstream_unavailable`. */
  get(): Promise<UpstreamClient> {
    const live = this.current;
    // Acting for a user: every call first makes sure the token it will carry is fresh.
    if (live)
      return this.#options.credential
        ? this.#options.credential.ready().then(() => live)
        : Promise.resolve(live);
    if (this.#connecting) return this.#connecting;
    if (this.#closed) return Promise.reject(this.#unavailable('the session has ended'));
    if (Date.now() < this.#retryAt) return Promise.reject(this.#unavailable(this.#lastError));
    return this.#connect();
  }

  #unavailable(detail: string): GatewayError {
    return new GatewayError('upstream_unavailable', `upstream "${this.name}" is unavailable`, {
      cause: new Error(detail),
    });
  }

  #connect(): Promise<UpstreamClient> {
    const { config, log, credential } = this.#options;
    const started = Date.now();
    let client: UpstreamClient | undefined;
    const open = () => {
      const transport = createTransport(config, (line) => log(`[${this.name}] ${line}`), credential);
      const attribution = this.shared ? 'exact' : (this.#options.attribution ?? 'newest');
      const opened = new UpstreamClient(this.name, transport, attribution, {
        ...this.#options.hooks,
        onClose: (reason) => this.#onClose(opened, reason, started),
      });
      client = opened;
      this.#connectingClient = opened;
      return opened.connect(this.#options.init, config.connectTimeoutMs, config.era).then(() => opened);
    };
    this.#connecting = (credential ? credential.ready().then(open) : open())
      .then((connected) => {
        if (this.#closed) {
          void connected.close();
          throw this.#unavailable('the session has ended');
        }
        this.#client = connected;
        // Back after a failure: what it lists may be new to the sessions that missed it.
        if (this.#failures > 0) this.#options.onRestart();
        return connected;
      })
      .catch((err: unknown) => {
        // A user who has not authorized the upstream yet is an answer, not an outage: no backoff.
        if (err instanceof GatewayError && err.code === 'authorization_required') throw err;
        void client?.close();
        this.#lastError = rootCause(err);
        this.#failures++;
        this.#retryAt = Date.now() + this.#backoff();
        log(`[${this.name}] connect failed: ${this.#lastError}`, { level: 'warn', upstream: this.name });
        if (!this.#closed) this.#scheduleRestart(this.#backoff());
        throw err instanceof GatewayError ? err : this.#unavailable(this.#lastError);
      })
      .finally(() => {
        this.#connecting = undefined;
        this.#connectingClient = undefined;
      });
    return this.#connecting;
  }

  #backoff(): number {
    return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, this.#failures - 1));
  }

  #onClose(client: UpstreamClient, reason: string, started: number): void {
    if (this.#closed || client !== this.#client) return;
    this.#client = undefined;
    this.#options.log(`[${this.name}] connection lost: ${reason}`);
    if (Date.now() - started > STABLE_MS) this.#failures = 0;
    this.#failures++;
    this.#scheduleRestart(this.#backoff());
  }

  /** Eager restart: keeps trying, with growing delays, until connected or closed. */
  #scheduleRestart(delay: number): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#closed || this.current) return;
      this.#retryAt = 0;
      // Success reports itself (onRestart); a failure schedules the next try in #connect.
      this.get().catch(() => {});
    }, delay);
    this.#restartTimer.unref();
  }

  /** Stops restarting, lets calls in flight finish (up to the call timeout), then closes. */
  async retire(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const deadline = Date.now() + this.config.timeoutMs;
    while (this.#client && this.#client.inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const client = this.#client ?? this.#connectingClient;
    this.#client = undefined;
    await client?.close(); // A handshake in progress fails at once.
  }
}

/** The innermost message of an error chain: "connect ECONNREFUSED 127.0.0.1:1", not "unavailable". */
function rootCause(err: unknown): string {
  let at: unknown = err;
  while (at instanceof Error && at.cause instanceof Error) at = at.cause;
  return at instanceof Error ? at.message : String(at);
}

// Bridging a stateless (2026-07-28) client to a session-era upstream: when the upstream asks the
// client something mid-call (elicitation, sampling, roots), the upstream call is held open and
// the client gets an `input_required` result with an unguessable `requestState`. The client's
// retry carries the answers; the held call resumes where it stopped.
import { randomBytes } from 'node:crypto';
import type { Notification, Params, Response } from '../jsonrpc.ts';
import type { CallSink } from '../session/session.ts';
import type { ServerRequestAnswer } from '../upstream/client.ts';

/** How long a client has to come back with its answers before the held call is cancelled. */
const HOLD_MS = 5 * 60_000;

export type Outcome =
  | {
      kind: 'input';
      inputRequests: Record<string, { method: string; params?: Params }>;
      requestState: string;
    }
  | { kind: 'done'; response: Response };

interface Question {
  method: string;
  params?: Params;
  resolve(answer: ServerRequestAnswer): void;
  asked: boolean;
}

export class HeldCall {
  onNotification?: (n: Notification) => void;
  #questions = new Map<string, Question>();
  #next = 1;
  #done?: Response;
  #waiter?: (o: Outcome) => void;
  #cancel: () => void;
  #registry: HeldCalls;

  constructor(registry: HeldCalls, run: (sink: CallSink) => Promise<Response>, cancel: () => void) {
    this.#registry = registry;
    this.#cancel = cancel;
    const sink: CallSink = {
      notify: (n) => this.onNotification?.(n),
      request: (method, params) =>
        new Promise((resolve) => {
          this.#questions.set(`r${this.#next++}`, { method, params, resolve, asked: false });
          this.#wake();
        }),
    };
    void run(sink).then((response) => {
      this.#done = response;
      this.#wake();
    });
  }

  /** Resolves with the next thing the client must see: questions, or the final answer. */
  next(): Promise<Outcome> {
    return new Promise((resolve) => {
      this.#waiter = resolve;
      this.#wake();
    });
  }

  answer(responses: Record<string, unknown> | undefined): void {
    for (const [key, value] of Object.entries(responses ?? {})) {
      const q = this.#questions.get(key);
      if (!q?.asked) continue;
      this.#questions.delete(key);
      q.resolve({ result: (value ?? {}) as Record<string, unknown> });
    }
  }

  cancel(): void {
    for (const q of this.#questions.values())
      q.resolve({ error: { code: -32800, message: 'request cancelled' } });
    this.#questions.clear();
    this.#cancel();
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    if (this.#done) {
      this.#waiter = undefined;
      waiter({ kind: 'done', response: this.#done });
      return;
    }
    const fresh = [...this.#questions].filter(([, q]) => !q.asked);
    if (fresh.length === 0) return;
    this.#waiter = undefined;
    const inputRequests: Record<string, { method: string; params?: Params }> = {};
    for (const [key, q] of this.#questions) {
      q.asked = true;
      inputRequests[key] =
        q.params === undefined ? { method: q.method } : { method: q.method, params: q.params };
    }
    waiter({ kind: 'input', inputRequests, requestState: this.#registry.hold(this) });
  }
}

export class HeldCalls {
  #held = new Map<string, { call: HeldCall; timer: NodeJS.Timeout }>();

  start(run: (sink: CallSink) => Promise<Response>, cancel: () => void): HeldCall {
    return new HeldCall(this, run, cancel);
  }

  has(token: string): boolean {
    return this.#held.has(token);
  }

  /** Parks a call under a fresh single-use token. */
  hold(call: HeldCall): string {
    const token = randomBytes(24).toString('base64url');
    const timer = setTimeout(() => {
      this.#held.delete(token);
      call.cancel();
    }, HOLD_MS);
    timer.unref();
    this.#held.set(token, { call, timer });
    return token;
  }

  /** Takes a parked call back (the token is spent) and hands it the client's answers. */
  resume(token: string, inputResponses: Record<string, unknown> | undefined): HeldCall | undefined {
    const held = this.#held.get(token);
    if (!held) return undefined;
    this.#held.delete(token);
    clearTimeout(held.timer);
    held.call.answer(inputResponses);
    return held.call;
  }

  cancelAll(): void {
    for (const { call, timer } of this.#held.values()) {
      clearTimeout(timer);
      call.cancel();
    }
    this.#held.clear();
  }
}

export const heldCalls = new HeldCalls();

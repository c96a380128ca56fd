// Bridging a stateless (2026-07-28) client to a session-era upstream: when the upstream asks the
// client something mid-call (elicitation, sampling, roots), the upstream call is held open and
// the client gets an `input_required` result with an unguessable, single-use `requestState`. The
// client's retry carries the answers; the held call resumes where it stopped.
import { randomBytes } from 'node:crypto';
import type { Notification, Params, Response } from '../jsonrpc.ts';
import type { CallSink } from '../session/session.ts';
import type { ServerRequestAnswer } from '../upstream/calls.ts';

/** How long a client has to come back with its answers before the held call is cancelled. */
const HOLD_MS = 5 * 60_000;
/**
 * A session-era server asks concurrent questions as separate requests (`Promise.all`); waiting
 * this long after the latest one lets them reach the client as one `input_required` round.
 */
const SETTLE_MS = 20;
/**
 * `_meta` key a session-era upstream may put on its server→client request to name the input
 * (`inputRequests` key) it stands for; without it the gateway mints `r1`, `r2`, ...
 */
export const INPUT_KEY_META = 'gatehouse/inputKey';
/** The client capability each server→client request needs (2026-07-28 MUST NOT ask beyond it). */
const CAPABILITY_OF: Record<string, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

export type InputRequests = Record<string, { method: string; params?: Params }>;

export type Outcome =
  | { kind: 'input'; inputRequests: InputRequests; requestState: string }
  | { kind: 'done'; response: Response }
  /** The upstream needs a client capability the request did not declare (-32021). */
  | { kind: 'missing_capability'; requiredCapabilities: Record<string, object> };

export interface HoldOptions {
  /** Client capabilities the request declared in `_meta`. */
  capabilities: Record<string, unknown>;
  /** Answers sent with a fresh call (no requestState), used when the upstream asks by that key. */
  presets?: Record<string, Record<string, unknown>>;
  /** The request the call serves (method + name/uri): its requestState is good for nothing else. */
  origin: string;
  /** False for methods that may not answer input_required: the upstream's questions are refused. */
  mayAsk: boolean;
}

interface Question {
  method: string;
  params?: Params;
  resolve(answer: ServerRequestAnswer): void;
  asked: boolean;
}

export class HeldCall {
  readonly origin: string;
  onNotification?: (n: Notification) => void;
  #questions = new Map<string, Question>();
  #next = 1;
  #presets: Map<string, Record<string, unknown>>;
  #capabilities: Record<string, unknown>;
  #mayAsk: boolean;
  #done?: Response;
  #missing?: Record<string, object>;
  #settling?: NodeJS.Timeout;
  #waiter?: (o: Outcome) => void;
  #cancel: () => void;
  #registry: HeldCalls;

  constructor(
    registry: HeldCalls,
    run: (sink: CallSink) => Promise<Response>,
    cancel: () => void,
    options: HoldOptions,
  ) {
    this.#registry = registry;
    this.#cancel = cancel;
    this.origin = options.origin;
    this.#capabilities = options.capabilities;
    this.#mayAsk = options.mayAsk;
    this.#presets = new Map(Object.entries(options.presets ?? {}));
    const sink: CallSink = {
      notify: (n) => this.onNotification?.(n),
      request: (method, params) => new Promise((resolve) => this.#ask(method, params, resolve)),
    };
    run(sink).then(
      (response) => this.#finish(response),
      () => this.#finish({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } }),
    );
  }

  /** Resolves with the next thing the client must see: questions, or the final answer. */
  next(): Promise<Outcome> {
    return new Promise((resolve) => {
      this.#waiter = resolve;
      this.#wake();
    });
  }

  /** Hands the client's answers to the questions they match; unanswered ones are asked again. */
  answer(responses: Record<string, Record<string, unknown>>): void {
    for (const [key, q] of this.#questions) {
      if (!q.asked) continue;
      const value = responses[key];
      if (value === undefined) {
        q.asked = false; // Re-requested in the next round (SEP-2322: SHOULD re-request).
        continue;
      }
      this.#questions.delete(key);
      q.resolve({ result: value });
    }
  }

  cancel(): void {
    clearTimeout(this.#settling);
    for (const q of this.#questions.values())
      q.resolve({ error: { code: -32800, message: 'request cancelled' } });
    this.#questions.clear();
    this.#cancel();
  }

  #ask(method: string, params: Params | undefined, resolve: (a: ServerRequestAnswer) => void): void {
    const capability = CAPABILITY_OF[method];
    if (!capability || !this.#mayAsk) {
      resolve({ error: { code: -32601, message: `Method not found: ${method}` } });
      return;
    }
    if (this.#capabilities[capability] === undefined) {
      // Never ask what the client did not declare; the client learns which capability is missing.
      resolve({
        error: { code: -32601, message: `the client did not declare the ${capability} capability` },
      });
      this.#missing = { ...this.#missing, [capability]: {} };
      this.#wake();
      return;
    }
    const { key, params: clean } = inputKey(params);
    const preset = key === undefined ? undefined : this.#presets.get(key);
    if (key !== undefined && preset) {
      this.#presets.delete(key);
      resolve({ result: preset });
      return;
    }
    let name = key ?? `r${this.#next++}`;
    while (this.#questions.has(name)) name = `${key ?? 'r'}${this.#next++}`;
    this.#questions.set(name, { method, params: clean, resolve, asked: false });
    clearTimeout(this.#settling);
    this.#settling = setTimeout(() => {
      this.#settling = undefined;
      this.#wake();
    }, SETTLE_MS);
  }

  #finish(response: Response): void {
    this.#done = response;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    if (this.#missing || this.#done) {
      this.#waiter = undefined;
      clearTimeout(this.#settling);
      waiter(
        this.#missing
          ? { kind: 'missing_capability', requiredCapabilities: this.#missing }
          : { kind: 'done', response: this.#done! },
      );
      return;
    }
    if (this.#settling) return;
    const fresh = [...this.#questions.values()].some((q) => !q.asked);
    if (!fresh) return;
    this.#waiter = undefined;
    const inputRequests: InputRequests = {};
    for (const [key, q] of this.#questions) {
      q.asked = true;
      inputRequests[key] =
        q.params === undefined ? { method: q.method } : { method: q.method, params: q.params };
    }
    waiter({ kind: 'input', inputRequests, requestState: this.#registry.hold(this) });
  }
}

/** Splits the upstream's key hint off the request params it rode on. */
function inputKey(params: Params | undefined): { key?: string; params?: Params } {
  const meta = params?._meta as Record<string, unknown> | undefined;
  const key = meta?.[INPUT_KEY_META];
  if (typeof key !== 'string' || key === '') return { params };
  const { [INPUT_KEY_META]: _hint, ...restMeta } = meta!;
  const { _meta: _m, ...rest } = params!;
  return { key, params: Object.keys(restMeta).length > 0 ? { ...rest, _meta: restMeta } : rest };
}

export class HeldCalls {
  #held = new Map<string, { call: HeldCall; timer: NodeJS.Timeout }>();

  start(run: (sink: CallSink) => Promise<Response>, cancel: () => void, options: HoldOptions): HeldCall {
    return new HeldCall(this, run, cancel, options);
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

  /**
   * Takes a parked call back (the token is spent) and hands it the client's answers. Undefined
   * when the token is unknown, spent, expired or tampered with, or was issued for another request.
   */
  resume(
    token: string,
    origin: string,
    inputResponses: Record<string, Record<string, unknown>>,
  ): HeldCall | undefined {
    const held = this.#held.get(token);
    if (!held || held.call.origin !== origin) return undefined;
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

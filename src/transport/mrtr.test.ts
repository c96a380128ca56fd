// The MRTR bridge on its own: a fake upstream call asks through the sink the way a session-era
// server does, and the held call turns that into input_required rounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Response } from '../jsonrpc.ts';
import type { CallSink } from '../session/session.ts';
import { HeldCalls, INPUT_KEY_META, type Outcome } from './mrtr.ts';

const ALL = { elicitation: {}, sampling: {}, roots: {} };
const done = (text: string): Response => ({ jsonrpc: '2.0', id: 1, result: { text } });
const keyed = (key: string) => ({ _meta: { [INPUT_KEY_META]: key } });

function start(run: (sink: CallSink) => Promise<Response>, capabilities: Record<string, unknown> = ALL) {
  const calls = new HeldCalls();
  let cancelled = 0;
  const held = calls.start(run, () => cancelled++, { capabilities, origin: 'tools/call t', mayAsk: true });
  return { calls, held, cancelled: () => cancelled };
}

function input(outcome: Outcome) {
  assert.equal(outcome.kind, 'input');
  return outcome as Extract<Outcome, { kind: 'input' }>;
}

test('concurrent questions reach the client as one round, keyed as the upstream named them', async () => {
  const { calls, held } = start(async (sink) => {
    const [a, b] = await Promise.all([
      sink.request('elicitation/create', { message: 'name?', ...keyed('user_name') }),
      sink.request('roots/list', undefined),
    ]);
    return done(`${JSON.stringify(a)} ${JSON.stringify(b)}`);
  });
  const round = input(await held.next());
  assert.deepEqual(Object.keys(round.inputRequests).sort(), ['r1', 'user_name']);
  assert.deepEqual(round.inputRequests.user_name, {
    method: 'elicitation/create',
    params: { message: 'name?' },
  });
  const resumed = calls.resume(round.requestState, 'tools/call t', {
    user_name: { action: 'accept' },
    r1: { roots: [] },
  });
  assert.ok(resumed);
  const final = await resumed.next();
  assert.equal(final.kind, 'done');
  assert.equal(calls.resume(round.requestState, 'tools/call t', {}), undefined, 'the token is single-use');
});

test('an unanswered question is asked again; a token for another request is refused', async () => {
  const { calls, held } = start(async (sink) => {
    await sink.request('sampling/createMessage', keyed('q'));
    return done('ok');
  });
  const first = input(await held.next());
  assert.equal(calls.resume(first.requestState, 'tools/call other', {}), undefined);
  const again = calls.resume(first.requestState, 'tools/call t', { wrong_key: { action: 'accept' } });
  assert.ok(again);
  const second = input(await again.next());
  assert.deepEqual(Object.keys(second.inputRequests), ['q']);
  assert.notEqual(second.requestState, first.requestState);
});

test('answers sent with a fresh call are used when the upstream asks by that key', async () => {
  const calls = new HeldCalls();
  const held = calls.start(
    async (sink) => {
      const answer = await sink.request('elicitation/create', keyed('user_name'));
      return done(JSON.stringify(answer));
    },
    () => {},
    {
      capabilities: ALL,
      origin: 'tools/call t',
      mayAsk: true,
      presets: { user_name: { action: 'decline' } },
    },
  );
  const outcome = await held.next();
  assert.equal(outcome.kind, 'done');
  assert.match(String((outcome as { response: Response }).response.result?.text), /decline/);
});

test('a question for an undeclared capability fails the call with the capability named', async () => {
  let upstreamGot: unknown;
  const { held } = start(
    async (sink) => {
      upstreamGot = await sink.request('sampling/createMessage', {});
      return done('unreachable for the client');
    },
    { elicitation: {} },
  );
  const outcome = await held.next();
  assert.deepEqual(outcome, { kind: 'missing_capability', requiredCapabilities: { sampling: {} } });
  assert.ok(upstreamGot && 'error' in (upstreamGot as object), 'the upstream is answered with an error');
});

test('methods that may not answer input_required refuse the upstream question', async () => {
  const calls = new HeldCalls();
  const held = calls.start(
    async (sink) => done(JSON.stringify(await sink.request('elicitation/create', {}))),
    () => {},
    { capabilities: ALL, origin: 'completion/complete ', mayAsk: false },
  );
  const outcome = await held.next();
  assert.equal(outcome.kind, 'done');
  assert.match(String((outcome as { response: Response }).response.result?.text), /error/);
});

test('cancel answers pending questions and cancels the upstream call', async () => {
  const { held, cancelled } = start(async (sink) => {
    const answer = await sink.request('roots/list', undefined);
    return done(JSON.stringify(answer));
  });
  input(await held.next());
  held.cancel();
  assert.equal(cancelled(), 1);
});

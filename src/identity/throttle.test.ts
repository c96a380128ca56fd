import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createThrottle, type ThrottleOptions, throttleKey } from './throttle.ts';

function throttleAt(options: ThrottleOptions = {}) {
  const clock = { now: 1_000_000 };
  const throttle = createThrottle({
    maxFailures: 3,
    windowMs: 60_000,
    baseBackoffMs: 1_000,
    maxBackoffMs: 8_000,
    now: () => clock.now,
    ...options,
  });
  const failTimes = (source: string, n: number) => {
    for (let i = 0; i < n; i++) throttle.fail(source);
  };
  return { throttle, clock, failTimes };
}

describe('failed-attempt throttle', () => {
  test('allows a source below the failure limit', () => {
    const { throttle, failTimes } = throttleAt();
    failTimes('10.0.0.1', 2);
    assert.deepEqual(throttle.check('10.0.0.1'), { allowed: true });
  });

  test('refuses a source after N failures within the window, with the time to wait', () => {
    const { throttle, clock, failTimes } = throttleAt();
    failTimes('10.0.0.1', 3);
    assert.deepEqual(throttle.check('10.0.0.1'), { allowed: false, retryAfterMs: 1_000 });
    clock.now += 400;
    assert.deepEqual(throttle.check('10.0.0.1'), { allowed: false, retryAfterMs: 600 });
    clock.now += 600;
    assert.deepEqual(throttle.check('10.0.0.1'), { allowed: true });
  });

  test('only the failing source is refused', () => {
    const { throttle, failTimes } = throttleAt();
    failTimes('10.0.0.1', 3);
    assert.equal(throttle.check('10.0.0.2').allowed, true);
  });

  test('failures spread over more than the window do not add up', () => {
    const { throttle, clock, failTimes } = throttleAt();
    failTimes('10.0.0.1', 2);
    clock.now += 60_000;
    failTimes('10.0.0.1', 2);
    assert.equal(throttle.check('10.0.0.1').allowed, true);
  });

  test('each further lockout doubles, up to the cap', () => {
    const { throttle, clock, failTimes } = throttleAt();
    const lockouts: number[] = [];
    for (let i = 0; i < 6; i++) {
      failTimes('10.0.0.1', 3);
      const decision = throttle.check('10.0.0.1');
      lockouts.push(decision.retryAfterMs ?? 0);
      clock.now += decision.retryAfterMs ?? 0;
    }
    assert.deepEqual(lockouts, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  test('a success resets the source, lockout history included', () => {
    const { throttle, clock, failTimes } = throttleAt();
    failTimes('10.0.0.1', 3);
    clock.now += 1_000;
    throttle.succeed('10.0.0.1');
    failTimes('10.0.0.1', 2);
    assert.equal(throttle.check('10.0.0.1').allowed, true);
    throttle.fail('10.0.0.1');
    assert.equal(throttle.check('10.0.0.1').retryAfterMs, 1_000);
  });

  test('a source quiet for forgetAfterMs starts again from the first lockout', () => {
    const { throttle, clock, failTimes } = throttleAt({ forgetAfterMs: 100_000 });
    failTimes('10.0.0.1', 3);
    clock.now += 1_000;
    failTimes('10.0.0.1', 3);
    assert.equal(throttle.check('10.0.0.1').retryAfterMs, 2_000);
    clock.now += 100_000;
    failTimes('10.0.0.1', 3);
    assert.equal(throttle.check('10.0.0.1').retryAfterMs, 1_000);
  });

  test('memory is bounded: beyond maxSources the least recently active source is evicted', () => {
    const { throttle, failTimes } = throttleAt({ maxSources: 3 });
    failTimes('a', 3); // blocked
    failTimes('b', 1);
    failTimes('c', 1);
    assert.equal(throttle.check('a').allowed, false); // a refused check keeps `a` recent
    failTimes('d', 1); // evicts b, the least recently active
    assert.equal(throttle.size, 3);
    assert.equal(throttle.check('a').allowed, false);
    for (let i = 0; i < 10_000; i++) throttle.fail(`spray-${i}`);
    assert.equal(throttle.size, 3);
  });

  test('invalid options are refused when the throttle is made', () => {
    assert.throws(() => createThrottle({ maxFailures: 0 }), TypeError);
    assert.throws(() => createThrottle({ windowMs: Number.NaN }), TypeError);
  });
});

describe('throttle source keys', () => {
  test('IPv4 stays as it is, also when written IPv4-mapped', () => {
    assert.equal(throttleKey('192.0.2.7'), '192.0.2.7');
    assert.equal(throttleKey('::ffff:192.0.2.7'), '192.0.2.7');
  });

  test('IPv6 addresses in one /64 share a key', () => {
    assert.equal(throttleKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(throttleKey('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(throttleKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(throttleKey('::1'), '0:0:0:0::/64');
  });

  test('anything that is not an IPv6 address is used as it is, without throwing', () => {
    assert.equal(throttleKey('1:2:3:4:5:6:7:8:9::1'), '1:2:3:4:5:6:7:8:9::1');
    assert.equal(throttleKey('unknown'), 'unknown');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskPii, scanPii } from './pii.ts';

const kinds = (text: string) => scanPii(text).findings.map((f) => `${f.kind}:${text.slice(f.start, f.end)}`);

test('finds emails but not scp remotes, URL userinfo, package specs or retina asset names', () => {
  assert.deepEqual(kinds('Mail ana.lima+x@mail.example.org.'), ['email:ana.lima+x@mail.example.org']);
  assert.deepEqual(kinds('git@github.com:o/r.git ssh://git@host.example/x lodash@4.17.21 logo@2x.png'), []);
});

test('finds phone numbers in NANP and international forms, not dates, versions or bare ids', () => {
  assert.deepEqual(kinds('(415) 555-2671, +44 20 7946 0958, 1-212-555-0147'), [
    'phone:(415) 555-2671',
    'phone:+44 20 7946 0958',
    'phone:1-212-555-0147',
  ]);
  assert.deepEqual(kinds('2024-03-15 v10.0.19041.1 id 2345678901 SKU 123-456-7890'), []);
  assert.deepEqual(kinds('phone: 4155550199'), ['phone:4155550199']);
});

test('finds SSNs only in valid ranges', () => {
  assert.deepEqual(kinds('SSN 512-34-6789'), ['ssn:512-34-6789']);
  assert.deepEqual(kinds('000-12-3456 666-45-6789 912-34-5678 078-05-1120'), []);
});

test('finds payment cards only when Luhn and the issuer prefix agree', () => {
  assert.deepEqual(kinds('4111 1111 1111 1111 and 3782-822463-10005'), [
    'card:4111 1111 1111 1111',
    'card:3782-822463-10005',
  ]);
  assert.deepEqual(kinds('4111 1111 1111 1112 and 9111 1111 1111 1111'), []);
});

test('finds IBANs by country length and mod-97, grouped or not', () => {
  assert.deepEqual(kinds('DE89 3704 0044 0532 0130 00 / GB82WEST12345698765432'), [
    'iban:DE89 3704 0044 0532 0130 00',
    'iban:GB82WEST12345698765432',
  ]);
  assert.deepEqual(kinds('DE89 3704 0044 0532 0130 01'), []);
});

test('finds IP addresses but not loopback, masks, versions or clock times', () => {
  assert.deepEqual(kinds('from 8.8.4.4 and 2001:db8::7 and 10.1.2.3'), [
    'ipv4:8.8.4.4',
    'ipv6:2001:db8::7',
    'ipv4:10.1.2.3',
  ]);
  assert.deepEqual(kinds('127.0.0.1 255.255.255.0 version 1.2.3.4 12:30:45 ::1 std::vector'), []);
});

test('masks each finding with a label that does not depend on its length', () => {
  assert.equal(maskPii('a@b.example or 4111-1111-1111-1111'), '[EMAIL] or [CARD]');
  assert.equal(maskPii('a@b.example or 4111-1111-1111-1111', ['card']), 'a@b.example or [CARD]');
});

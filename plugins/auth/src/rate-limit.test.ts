import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressRateLimiter, addressKey, type Admission, type AttemptTicket } from './rate-limit.js';

const ticketOf = (admission: Admission): AttemptTicket => {
  assert.ok(admission.admitted, `admitted: ${JSON.stringify(admission)}`);
  return admission.ticket;
};

const refusal = (admission: Admission): { busy: boolean; retryAfterSeconds: number } => {
  assert.ok(!admission.admitted, 'refused');
  return { busy: admission.busy, retryAfterSeconds: admission.retryAfterSeconds };
};

describe('addressKey', () => {
  it('keeps an IPv4 address as it is', () => {
    assert.equal(addressKey('203.0.113.5'), '203.0.113.5');
    assert.equal(addressKey('127.0.0.2'), '127.0.0.2');
  });

  it('reads an IPv4-mapped IPv6 address as its IPv4 address', () => {
    assert.equal(addressKey('::ffff:203.0.113.5'), '203.0.113.5');
    assert.equal(addressKey('::ffff:cb00:7105'), '203.0.113.5');
  });

  it('groups IPv6 addresses by their /64', () => {
    assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2:ffff:ffff:ffff:fffe'), '2001:db8:1:2::/64', 'another address in the same /64');
    assert.equal(addressKey('2001:0DB8:0001:0002:0000:0000:0000:0001'), '2001:db8:1:2::/64', 'however it is written');
    assert.notEqual(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'), 'the next /64 is another key');
    assert.equal(addressKey('::1'), '::/64');
  });

  it('keeps what it cannot parse as given', () => {
    assert.equal(addressKey('local'), 'local');
    assert.equal(addressKey('not an address'), 'not an address');
    assert.equal(addressKey(''), '');
  });
});

describe('AddressRateLimiter', () => {
  const window = 60_000;

  it('refuses a second attempt from an address while its first is in flight, and counts it on arrival', () => {
    const limiter = new AddressRateLimiter(2, window);
    const first = ticketOf(limiter.begin('203.0.113.5', 0));
    assert.deepEqual(refusal(limiter.begin('203.0.113.5', 1)), { busy: true, retryAfterSeconds: 1 });
    assert.deepEqual(refusal(limiter.begin('::ffff:203.0.113.5', 1)), { busy: true, retryAfterSeconds: 1 }, 'the mapped form is the same address');
    ticketOf(limiter.begin('203.0.113.6', 1)).settle(true);
    first.settle(true);
    ticketOf(limiter.begin('203.0.113.5', 2)).settle(true);
    assert.equal(refusal(limiter.begin('203.0.113.5', 3)).busy, false, 'the refused attempts were not counted: the limit is reached only now');
  });

  it('refuses once the window holds `limit` attempts, until the oldest leaves it', () => {
    const limiter = new AddressRateLimiter(3, window);
    for (const at of [0, 10_000, 20_000]) ticketOf(limiter.begin('2001:db8::1', at)).settle(true);
    assert.deepEqual(refusal(limiter.begin('2001:db8::2', 30_000)), { busy: false, retryAfterSeconds: 30 }, 'one /64: one budget');
    ticketOf(limiter.begin('2001:db8:0:1::1', 30_000)).settle(true);
    assert.deepEqual(refusal(limiter.begin('2001:db8::1', window - 1)), { busy: false, retryAfterSeconds: 1 });
    const slid = ticketOf(limiter.begin('2001:db8::1', window));
    slid.settle(true);
    assert.equal(refusal(limiter.begin('2001:db8::1', window + 1)).retryAfterSeconds, 10, 'the window slid by one attempt');
  });

  it('takes a success back; a failure stays counted', () => {
    const limiter = new AddressRateLimiter(2, window);
    for (let at = 0; at < 5; at++) ticketOf(limiter.begin('198.51.100.7', at)).settle(false);
    ticketOf(limiter.begin('198.51.100.7', 5)).settle(true);
    const last = ticketOf(limiter.begin('198.51.100.7', 6));
    last.settle(true);
    last.settle(false);
    assert.deepEqual(refusal(limiter.begin('198.51.100.7', 7)), { busy: false, retryAfterSeconds: 60 }, 'two failures; a ticket settles once');
  });

  it('counts an attempt from its arrival, however long its check takes', () => {
    const limiter = new AddressRateLimiter(1, window);
    const slow = ticketOf(limiter.begin('198.51.100.8', 0));
    assert.deepEqual(refusal(limiter.begin('198.51.100.8', 30_000)), { busy: true, retryAfterSeconds: 1 });
    slow.settle(true);
    assert.deepEqual(refusal(limiter.begin('198.51.100.8', 50_000)), { busy: false, retryAfterSeconds: 10 });
    ticketOf(limiter.begin('198.51.100.8', window));
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { costOf, loadPrices, priceOf } from './prices.js';

describe('prices', () => {
  test('the shipped table has the published list prices, with the date they were taken', async () => {
    const table = loadPrices({});
    assert.match(table.taken, /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(priceOf(table, 'claude-sonnet-4-5'), { input: 3, output: 15, cache_write_5m: 3.75, cache_write_1h: 6, cache_read: 0.3 });
    assert.deepEqual(priceOf(table, 'claude-opus-4-5'), { input: 5, output: 25, cache_write_5m: 6.25, cache_write_1h: 10, cache_read: 0.5 });
    assert.equal(priceOf(table, 'gpt-5')?.cache_read, 0.125);
    // The models the pinned Claude Code names: each with its own cache prices, not input's multiples.
    assert.deepEqual(priceOf(table, 'claude-opus-5-5'), { input: 4, output: 20, cache_write_5m: 5, cache_write_1h: 8, cache_read: 0.2 });
    assert.deepEqual(priceOf(table, 'claude-sonnet-5-5'), { input: 2, output: 10, cache_write_5m: 2.5, cache_write_1h: 4, cache_read: 0.2 });
    // The pinned Codex's default: from GPT-5.6 on OpenAI charges cache writes (1.25 x input).
    assert.deepEqual(priceOf(table, 'gpt-6.1-sol'), { input: 2, output: 10, cache_write_5m: 2.5, cache_write_1h: 2.5, cache_read: 0.1 });
  });

  test('a dated snapshot is priced as its model; nothing else is matched loosely', async () => {
    const table = loadPrices({});
    assert.equal(priceOf(table, 'claude-sonnet-4-5-20250929')?.input, 3);
    assert.equal(priceOf(table, 'claude-opus-4-20250514')?.input, 15);
    assert.equal(priceOf(table, 'gpt-5-2025-08-07')?.output, 10);
    // `claude-opus-4` is priced, but `claude-opus-4-9` is another model: unpriced, not guessed.
    assert.equal(priceOf(table, 'claude-opus-4-9'), undefined);
    assert.equal(priceOf(table, 'claude-opus-6-5'), undefined);
    assert.equal(priceOf(table, null), undefined);
  });

  test('config overrides replace a model’s price and add new ones', async () => {
    const mine = { input: 1, output: 2, cache_write_5m: 3, cache_write_1h: 4, cache_read: 5 };
    const table = loadPrices({ 'claude-sonnet-4-5': mine, 'local-model': mine });
    assert.deepEqual(priceOf(table, 'claude-sonnet-4-5'), mine);
    assert.deepEqual(priceOf(table, 'local-model'), mine);
    assert.equal(priceOf(table, 'claude-haiku-4-5')?.input, 1, 'the others stay');
  });

  test('cost: each kind of token at its own rate, per million', () => {
    const price = { input: 3, output: 15, cache_write_5m: 3.75, cache_write_1h: 6, cache_read: 0.3 };
    const tokens = { input: 1_000_000, output: 100_000, cacheWrite5m: 200_000, cacheWrite1h: 10_000, cacheRead: 2_000_000, reasoning: 50_000 };
    assert.ok(Math.abs(costOf(tokens, price) - (3 + 1.5 + 0.75 + 0.06 + 0.6)) < 1e-12);
  });
});

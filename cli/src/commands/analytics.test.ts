import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UsageReport } from '@codepiper/analytics-contract';
import { UsageError } from '../errors.js';
import { costText, formatUsage, parseGrouping, parseUntil, reportQuery, usageCsv } from './analytics.js';

const usage = (fn: () => unknown, message: RegExp): void => {
  assert.throws(fn, (error: unknown) => error instanceof UsageError && message.test(error.message));
};

const totals = { input: 1000, output: 20, cacheWrite5m: 5, cacheWrite1h: 0, cacheRead: 4000, reasoning: 0, responses: 2, cacheHitRate: 4000 / 5005, cost: 0.0123, unpricedModels: ['my-model'] };

describe('analytics command', () => {
  test('--by', () => {
    assert.equal(parseGrouping(undefined), 'session');
    assert.equal(parseGrouping('tool'), 'tool');
    usage(() => parseGrouping('week'), /--by must be one of session, model, day, project, provider, tool; got "week"/);
  });

  test('--until: a date includes that whole day; a time is the end itself', () => {
    assert.equal(parseUntil('2026-01-31'), '2026-02-01T00:00:00.000Z');
    assert.equal(parseUntil('2026-01-31T10:00:00Z'), '2026-01-31T10:00:00.000Z');
    usage(() => parseUntil('soon'), /--until expects a time/);
  });

  test('the query, checked', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    assert.deepEqual(reportQuery({ by: 'day', since: '7d', session: 'ab12' }, now), { by: 'day', since: '2026-11-19T12:00:00.000Z', session: 'ab12' });
    usage(() => reportQuery({ since: '2026-02-01', until: '2026-01-01' }, now), /--since \(2026-02-01\) must be before --until \(2026-01-01\)/);
    usage(() => reportQuery({ json: true, csv: true }, now), /not both/);
    usage(() => reportQuery({ since: '2026-02-30x' }, now), /--since expects/);
  });

  test('cost: unpriced is said, a partial sum is marked', () => {
    assert.equal(costText({ cost: null, unpricedModels: ['x'] }), 'unpriced');
    assert.equal(costText({ cost: 0.0123, unpricedModels: [] }), '$0.0123');
    assert.equal(costText({ cost: 12.5, unpricedModels: ['x'] }), '$12.50*');
  });

  test('table and CSV', () => {
    const report: UsageReport = { by: 'project', rows: [{ key: '/work/a, "b"', ...totals }], total: totals, pricesTaken: '2026-11-26' };
    const table = formatUsage(report);
    assert.match(table, /^PROJECT\s+RESPONSES\s+INPUT/);
    assert.match(table, /1,000\s+20\s+5\s+0\s+4,000\s+79\.9%\s+\$0\.0123\*/);
    assert.match(table, /No price for my-model: their tokens are not in the cost. To price one, add it to config.yaml under analytics.prices, as my-model: \{ input, output, cache_write_5m, cache_write_1h, cache_read \}/);
    assert.match(table, /taken 2026-11-26/);
    assert.equal(usageCsv(report).split('\n')[1], '"/work/a, ""b""",,,2,1000,20,5,0,4000,0,0.7992007992007992,0.0123,my-model');
    assert.equal(formatUsage({ ...report, rows: [] }), 'no usage recorded');
  });
});

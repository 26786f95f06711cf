import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyBatch } from '@codepiper/analytics-contract';
import { RolloutParser, usageDelta } from './rollout.js';

const THREAD = '0199a213-81c0-7800-8aa1-bbab2a035a53';
const FILE = `/home/u/.codex/sessions/2026/11/26/rollout-2026-11-26T10-00-00-${THREAD}.jsonl`;

const usage = (input: number, cached: number, output: number, reasoning = 0) => ({ input_tokens: input, cached_input_tokens: cached, output_tokens: output, reasoning_output_tokens: reasoning, total_tokens: input + output });
const line = (type: string, payload: object, ts = '2026-11-26T10:00:01.000Z') => JSON.stringify({ timestamp: ts, type, payload });
const tokenCount = (total: object, last?: object) => line('event_msg', { type: 'token_count', info: { total_token_usage: total, ...(last ? { last_token_usage: last } : {}) } });

describe('Codex rollouts as ledger records', () => {
  test('usageDelta: the difference, nothing for a repeat, from zero after a reset', () => {
    assert.deepEqual(usageDelta(null, usage(10, 2, 5)), usage(10, 2, 5));
    assert.deepEqual(usageDelta(usage(10, 2, 5), usage(25, 4, 9)), usage(15, 2, 4));
    assert.equal(usageDelta(usage(10, 2, 5), usage(10, 2, 5)), undefined);
    assert.deepEqual(usageDelta(usage(10, 2, 5), usage(3, 0, 1)), usage(3, 0, 1));
  });

  test('one record per response; a repeated token_count adds nothing; cached input moves to cache reads', () => {
    const parser = new RolloutParser(FILE, undefined);
    const batch = emptyBatch();
    for (const text of [
      line('session_meta', { id: THREAD, cwd: '/work/project' }),
      line('turn_context', { cwd: '/work/project', model: 'gpt-5-codex' }),
      tokenCount(usage(1000, 200, 30, 7), usage(1000, 200, 30, 7)),
      tokenCount(usage(1000, 200, 30, 7), usage(1000, 200, 30, 7)),
      line('response_item', { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls"}', call_id: 'call_1' }),
      line('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'token_count is a word here' }] }),
      tokenCount(usage(2500, 900, 50, 9)),
    ]) parser.line(text, batch);
    assert.deepEqual(
      batch.usage.map((u) => [u.agentSession, u.project, u.model, u.input, u.cacheRead, u.output, u.reasoning]),
      [
        [THREAD, '/work/project', 'gpt-5-codex', 800, 200, 30, 7],
        // No last_token_usage: the difference of the cumulative counters.
        [THREAD, '/work/project', 'gpt-5-codex', 800, 700, 20, 2],
      ],
    );
    assert.deepEqual(batch.toolCalls.map((t) => [t.key, t.tool]), [['call_1', 'exec_command']]);
  });

  test('a parser continuing from a stored state gives the same keys as one reading from the start', () => {
    const lines = [line('session_meta', { id: THREAD, cwd: '/p' }), tokenCount(usage(100, 0, 10)), tokenCount(usage(300, 50, 30))];
    const whole = emptyBatch();
    const one = new RolloutParser(FILE, undefined);
    for (const text of lines) one.line(text, whole);
    const first = new RolloutParser(FILE, undefined);
    const parts = emptyBatch();
    first.line(lines[0]!, parts);
    first.line(lines[1]!, parts);
    const second = new RolloutParser(FILE, JSON.parse(JSON.stringify(first.state())) as ReturnType<typeof first.state>, { session: 'cp-session' });
    second.line(lines[2]!, parts);
    assert.deepEqual(parts.usage.map((u) => u.key), whole.usage.map((u) => u.key));
    assert.deepEqual(parts.usage.map((u) => u.input), [100, 150]);
    assert.equal(parts.usage[1]?.session, 'cp-session');
  });
});

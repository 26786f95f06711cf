import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyBatch } from '@codepiper/analytics-contract';
import { sessionOfFile, TranscriptParser } from './transcript.js';

const SESSION = '48f21afd-32d0-4cbb-bea0-38d671d5f68c';
const assistant = (id: string, content: object[], extra: object = {}) =>
  JSON.stringify({
    type: 'assistant',
    sessionId: SESSION,
    cwd: '/work/project',
    requestId: `req_${id}`,
    timestamp: '2026-11-26T10:00:00.000Z',
    message: {
      id,
      model: 'claude-sonnet-4-5',
      content,
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 7, cache_read_input_tokens: 100, cache_creation: { ephemeral_5m_input_tokens: 4, ephemeral_1h_input_tokens: 3 } },
    },
    ...extra,
  });

describe('Claude Code transcripts as ledger records', () => {
  test('a response written as several lines has one key; cache writes stay split; tool calls are recorded', () => {
    const parser = new TranscriptParser(`/c/projects/-work-project/${SESSION}.jsonl`, { session: 'cp-1' });
    const batch = emptyBatch();
    parser.line(assistant('msg_1', [{ type: 'text', text: 'looking' }]), batch);
    parser.line(assistant('msg_1', [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }]), batch);
    parser.line(JSON.stringify({ type: 'user', message: { role: 'user', content: 'the word "assistant" alone is no usage' } }), batch);
    parser.line('not json "assistant"', batch);
    assert.deepEqual(new Set(batch.usage.map((u) => u.key)), new Set(['msg_1:req_msg_1']));
    assert.deepEqual(
      { ...batch.usage[0] },
      { provider: 'claude-code', agentSession: SESSION, session: 'cp-1', project: '/work/project', model: 'claude-sonnet-4-5', ts: '2026-11-26T10:00:00.000Z', key: 'msg_1:req_msg_1', input: 10, output: 5, cacheWrite5m: 4, cacheWrite1h: 3, cacheRead: 100, reasoning: 0 },
    );
    assert.deepEqual(batch.toolCalls.map((t) => [t.key, t.tool, t.agentSession]), [['toolu_1', 'Bash', SESSION]]);
  });

  test('Claude Code’s own <synthetic> messages are no API calls', () => {
    const batch = emptyBatch();
    new TranscriptParser('/x.jsonl').line(assistant('msg_s', [], { message: { id: 'msg_s', model: '<synthetic>', usage: { input_tokens: 0, output_tokens: 0 } } }), batch);
    assert.equal(batch.usage.length, 0);
  });

  test('subagent transcripts belong to the session whose directory holds them', () => {
    assert.equal(sessionOfFile(`/c/projects/-work/${SESSION}/subagents/agent-a1b2.jsonl`), SESSION);
    assert.equal(sessionOfFile(`/c/projects/-work/${SESSION}.jsonl`), SESSION);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readProcess, waitFor } from '@codepiper/sdk/testing';
import { prepareClaudeHome, transcriptPath, type ClaudeHome } from '../agents/claude.js';
import {
  FakeAnthropic,
  addUsage,
  emptyTotals,
  hasToolResult,
  isMainConversation,
  lastUserText,
  toolResultText,
  type RecordedRequest,
  type Usage,
  type UsageTotals,
} from './anthropic.js';

/** Waits here are for a real Claude Code on a busy machine. */
const WAIT_MS = 30_000;

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const lines = chunk.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}') as Record<string, unknown>;
      return { event, data };
    });
}

function post(fake: FakeAnthropic, target: string, body: unknown): Promise<Response> {
  return fetch(fake.url + target, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(body) });
}

const userTurn = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] });

describe('FakeAnthropic over HTTP', () => {
  let fake: FakeAnthropic;
  before(async () => {
    fake = await FakeAnthropic.start([
      { when: hasToolResult, reply: (req) => ({ text: `saw ${toolResultText(req)?.text ?? '?'}` }) },
      { when: (req) => lastUserText(req) === 'run it', reply: { text: 'Running.', toolUse: { name: 'Bash', input: { command: 'echo hi' } } } },
      { when: (req) => lastUserText(req) === 'once', reply: { text: 'first', model: 'claude-other', usage: { input_tokens: 7, cache_creation_input_tokens: 0 } }, times: 1 },
      { when: (req) => lastUserText(req) === 'slow', reply: { text: 'late', delayMs: 400 } },
    ]);
  });
  after(() => fake.close());

  test('streams a tool call as server-sent events', async () => {
    const res = await post(fake, '/v1/messages?beta=true', { model: 'claude-x', stream: true, max_tokens: 100, messages: [userTurn('run it')] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = parseSse(await res.text());
    assert.deepEqual(
      events.map((e) => e.event),
      [
        'message_start',
        'content_block_start',
        ...Array<string>(3).fill('content_block_delta'),
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    const start = events[0]?.data.message as { id: string; model: string; usage: Usage };
    assert.equal(start.id, 'msg_fake_1');
    assert.equal(start.model, 'claude-x');
    assert.equal(start.usage.input_tokens, 1001);
    const text = events.filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'text_delta').map((e) => (e.data.delta as { text: string }).text);
    assert.equal(text.join(''), 'Running.');
    const json = events.filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'input_json_delta').map((e) => (e.data.delta as { partial_json: string }).partial_json);
    assert.deepEqual(JSON.parse(json.join('')), { command: 'echo hi' });
    assert.deepEqual(events[6]?.data.content_block, { type: 'tool_use', id: 'toolu_fake_1', name: 'Bash', input: {} });
    const delta = events.at(-2)?.data as { delta: { stop_reason: string }; usage: { output_tokens: number } };
    assert.equal(delta.delta.stop_reason, 'tool_use');
    assert.equal(delta.usage.output_tokens, 11);
  });

  test('answers a tool result, non-streaming, with a JSON message', async () => {
    const res = await post(fake, '/v1/messages', {
      model: 'claude-x',
      max_tokens: 100,
      messages: [
        userTurn('run it'),
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_fake_1', name: 'Bash', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_fake_1', content: [{ type: 'text', text: 'hi' }] }] },
      ],
    });
    const message = (await res.json()) as { id: string; content: unknown[]; stop_reason: string; usage: Usage };
    assert.equal(message.id, 'msg_fake_2');
    assert.deepEqual(message.content, [{ type: 'text', text: 'saw hi' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(toolResultText(fake.requests.at(-1) as RecordedRequest), { text: 'hi', isError: false, toolUseId: 'toolu_fake_1' });
    assert.equal(lastUserText(fake.requests.at(-1) as RecordedRequest), '');
  });

  test('applies usage overrides, reply models and rule limits; unmatched requests get "ok"', async () => {
    const first = (await (await post(fake, '/v1/messages', { model: 'm', messages: [userTurn('once')] })).json()) as { model: string; usage: Usage };
    assert.equal(first.model, 'claude-other');
    assert.equal(first.usage.input_tokens, 7);
    assert.equal(first.usage.cache_creation_input_tokens, 0);
    assert.deepEqual(first.usage.cache_creation, { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 });
    const second = (await (await post(fake, '/v1/messages', { model: 'm', messages: [userTurn('<system-reminder>x</system-reminder>once')] })).json()) as { content: unknown[] };
    assert.deepEqual(second.content, [{ type: 'text', text: 'ok' }]);
    assert.equal(fake.requests.at(-1)?.reply?.rule, undefined);
    const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] };
    const titled = (await (await post(fake, '/v1/messages', { model: 'm', messages: [userTurn('title?')], output_config: { format: { type: 'json_schema', schema } } })).json()) as { content: unknown[] };
    assert.deepEqual(titled.content, [{ type: 'text', text: '{"title":"ok"}' }]);
  });

  test('counts tokens, 404s anything else, and sums the usage it reported', async () => {
    const counted = (await (await post(fake, '/v1/messages/count_tokens', { model: 'm', messages: [userTurn('hello')] })).json()) as { input_tokens: number };
    assert.ok(counted.input_tokens > 0);
    const missing = await fetch(fake.url + '/v1/models');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { type: string }).type, 'error');
    const expected = emptyTotals();
    for (const req of fake.requests) if (req.reply?.usage) addUsage(expected, req.reply.usage);
    const totals = fake.reportedUsage();
    assert.deepEqual(totals, expected);
    assert.equal(totals.replies, 5);
    assert.equal(totals.output_tokens, 11 + 12 + 13 + 14 + 15);
    assert.equal(totals.cache_creation_input_tokens, totals.ephemeral_5m_input_tokens + totals.ephemeral_1h_input_tokens);
    assert.equal(fake.requests.length, 7);
    assert.equal(fake.requests[0]?.headers['x-api-key'], 'k');
  });

  test('a reply the client hung up on during its delay is neither sent nor counted', async () => {
    const before = fake.reportedUsage();
    const controller = new AbortController();
    const pending = fetch(fake.url + '/v1/messages', { method: 'POST', body: JSON.stringify({ stream: true, messages: [userTurn('slow')] }), signal: controller.signal });
    await waitFor('the request to arrive', () => lastUserText(fake.requests.at(-1) as RecordedRequest) === 'slow', 5_000);
    controller.abort();
    await assert.rejects(pending);
    await waitFor('the hang-up to be recorded', () => fake.requests.at(-1)?.reply?.status === 499, 5_000);
    assert.deepEqual(fake.reportedUsage(), before);
  });
});

interface TranscriptLine {
  type?: string;
  message?: { id?: string; model?: string; usage?: Usage; content?: { type: string }[] };
}

function readTranscript(file: string): TranscriptLine[] {
  if (!existsSync(file)) return [];
  const lines: TranscriptLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line) as TranscriptLine);
    } catch {
      // A line being written; the format is internal, parse defensively.
    }
  }
  return lines;
}

/** Assistant messages of a transcript, each id once (one response may be written as several lines). */
function assistantMessages(file: string): Map<string, NonNullable<TranscriptLine['message']>> {
  const byId = new Map<string, NonNullable<TranscriptLine['message']>>();
  for (const line of readTranscript(file)) if (line.type === 'assistant' && line.message?.id && !byId.has(line.message.id)) byId.set(line.message.id, line.message);
  return byId;
}

/** Whether a process has exited (a zombie counts as exited). */
const processGone = (pid: number): boolean => [undefined, 'Z'].includes(readProcess(pid)?.state);

const usageFields = (usage: Partial<Usage> | undefined): UsageTotals => addUsage(emptyTotals(), usage);

describe('the real Claude Code against FakeAnthropic', { timeout: 180_000 }, () => {
  const apiKey = 'sk-ant-test-fake-0123456789abcdefghijklmn';
  const sessionId = randomUUID();
  let root: string;
  let cwd: string;
  let socket: string;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let transcript: string;

  // The tmux server's environment (inherited by claude): none of ours that could reach it.
  const tmuxEnv = () => {
    const env = { ...process.env };
    for (const name of ['TMUX', 'TMUX_PANE', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CLAUDE_CONFIG_DIR']) delete env[name];
    return env;
  };
  const tmux = (...args: string[]) => spawnSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', env: tmuxEnv() });
  const screen = () => tmux('capture-pane', '-p', '-J', '-t', 'claude').stdout;
  /** What a wait that ran out says of the moment: Claude's screen. */
  const screenNow = () => `screen:\n${screen()}`;
  const onScreen = (what: string, timeoutMs = WAIT_MS) => waitFor(`"${what}" on screen`, () => screen().includes(what), timeoutMs, screenNow);
  const type = async (text: string) => {
    tmux('send-keys', '-t', 'claude', '-l', text);
    await onScreen(text, 5_000);
    tmux('send-keys', '-t', 'claude', 'Enter');
  };
  const replyOfRule = (rule: number) => fake.requests.find((r) => r.reply?.rule === rule)?.reply;

  before(async () => {
    root = mkdtempSync('/tmp/cpt-');
    cwd = path.join(root, 'project');
    mkdirSync(cwd);
    socket = path.join(root, 't.sock');
    fake = await FakeAnthropic.start([
      // 0: every tool result finishes the turn.
      { when: hasToolResult, reply: (req) => ({ text: `Tool finished (error: ${String(toolResultText(req)?.isError)}).` }) },
      // 1: a plain answer, from a model other than the one asked for.
      { when: (req) => lastUserText(req) === 'say hello', reply: { text: 'Hello from the fake model!', model: 'claude-fake-reply-model' } },
      // 2: a shell command that writes a file (pre-approved by a permission rule, so no prompt).
      {
        when: (req) => lastUserText(req) === 'write the file',
        reply: { text: 'Writing it.', toolUse: { name: 'Bash', input: { command: 'echo hi > out.txt', description: 'Write hi to out.txt' } } },
      },
      // 3: a command no rule covers: Claude Code asks first.
      { when: (req) => lastUserText(req) === 'touch a file', reply: { toolUse: { name: 'Bash', input: { command: 'touch touched.txt', description: 'Create touched.txt' } } } },
    ]);
    home = await prepareClaudeHome({
      cwd,
      apiKey,
      baseUrl: fake.url,
      // In `default` mode 2.1.328 prompts for any command that writes a file,
      // even `echo hi > out.txt`; this rule lets shell redirections write inside cwd.
      settings: { permissions: { allow: ['Edit(./**)'] } },
    });
    transcript = transcriptPath(home.configDir, cwd, sessionId);
    const env = Object.entries(home.env).map(([name, value]) => `${name}=${value}`);
    const started = spawnSync(
      'tmux',
      ['-f', '/dev/null', '-S', socket, 'new-session', '-d', '-s', 'claude', '-x', '150', '-y', '40', '-c', cwd, 'env', ...env, home.bin, '--session-id', sessionId, '--permission-mode', 'default', ';', 'set-option', '-g', 'focus-events', 'on'],
      { encoding: 'utf8', env: tmuxEnv() },
    );
    assert.equal(started.status, 0, started.stderr);
    await onScreen('for shortcuts');
  });

  after(async () => {
    if (socket) {
      // Claude Code still writes to its config dir while it shuts down: wait
      // for it to go before removing the dir, or it may be recreated.
      const pid = Number(tmux('display-message', '-p', '-t', 'claude', '#{pane_pid}').stdout.trim());
      tmux('kill-server');
      if (pid > 0) await waitFor('claude to exit', () => processGone(pid), 10_000).catch(() => undefined);
    }
    await fake?.close();
    if (home) rmSync(home.configDir, { recursive: true, force: true });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('(a) a plain answer shows on screen and lands in the transcript', async () => {
    await type('say hello');
    await onScreen('Hello from the fake model!');
    const reply = replyOfRule(1);
    assert.ok(reply?.id && reply.usage);
    const request = fake.requests.find((r) => r.reply === reply) as RecordedRequest;
    assert.equal(request.url, '/v1/messages?beta=true');
    assert.equal(request.body.stream, true);
    assert.equal(request.headers['x-api-key'], apiKey, 'the key comes from apiKeyHelper');
    assert.equal(request.headers['x-claude-code-session-id'], sessionId);
    const message = await waitFor('the reply in the transcript', () => assistantMessages(transcript).get(reply.id as string), 15_000);
    assert.equal(message.model, 'claude-fake-reply-model');
    assert.deepEqual(message.content?.map((b) => b.type), ['text']);
    assert.deepEqual(usageFields(message.usage), usageFields(reply.usage));
    assert.deepEqual(message.usage?.cache_creation, reply.usage.cache_creation);
  });

  test('(b) a scripted Bash call runs and its result goes back to the model', async () => {
    await type('write the file');
    const output = path.join(cwd, 'out.txt');
    // The shell creates the file a moment before the command writes to it.
    await waitFor('out.txt', () => existsSync(output) && readFileSync(output, 'utf8').endsWith('\n'), WAIT_MS, screenNow);
    assert.equal(readFileSync(output, 'utf8'), 'hi\n');
    const toolUseId = replyOfRule(2)?.toolUse?.id;
    assert.equal(toolUseId, `toolu_fake_${replyOfRule(2)?.id?.slice('msg_fake_'.length)}`);
    const followUp = await waitFor('the request carrying the tool result', () => fake.requests.find((r) => toolResultText(r)?.toolUseId === toolUseId), WAIT_MS);
    assert.equal(toolResultText(followUp)?.isError, false);
    assert.equal(followUp.reply?.rule, 0);
    await onScreen('Tool finished (error: false).');
  });

  test('(b2) a command no rule covers waits for approval, then runs', async () => {
    await type('touch a file');
    await onScreen('Do you want to proceed?');
    const touched = path.join(cwd, 'touched.txt');
    assert.equal(existsSync(touched), false);
    // "1. Yes" is selected. A dialog ignores keys for a moment after it shows
    // (2.1.328 has an "early key guard"), so press Enter until it is gone.
    let pressed = 0;
    await waitFor(
      'touched.txt',
      () => {
        if (existsSync(touched)) return true;
        if (Date.now() - pressed > 1_000 && screen().includes('Do you want to proceed?')) {
          tmux('send-keys', '-t', 'claude', 'Enter');
          pressed = Date.now();
        }
        return false;
      },
      WAIT_MS,
      screenNow,
    );
    const toolUseId = replyOfRule(3)?.toolUse?.id;
    const followUp = await waitFor('the tool result', () => fake.requests.find((r) => toolResultText(r)?.toolUseId === toolUseId), WAIT_MS);
    assert.equal(toolResultText(followUp)?.isError, false);
  });

  test('(c) transcript usage, each message once, equals what the server reported', async () => {
    const main = fake.requests.filter((r) => isMainConversation(r) && r.reply?.id);
    assert.ok(main.length >= 5, `expected 5 main-conversation replies, got ${main.length}`);
    const ids = main.map((r) => r.reply?.id as string);
    const messages = await waitFor('every reply in the transcript', () => {
      const found = assistantMessages(transcript);
      return ids.every((id) => found.has(id)) && found;
    }, WAIT_MS);
    const totals = emptyTotals();
    for (const message of messages.values()) addUsage(totals, message.usage);
    assert.deepEqual([...messages.keys()].sort(), [...ids].sort(), 'the transcript holds exactly the main-conversation replies');
    assert.deepEqual(totals, fake.reportedUsage(isMainConversation));
    assert.equal(totals.replies, main.length);
  });
});

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { codexBin, lastTotalTokenUsage, prepareCodexHome, readRollout, rolloutFile, startedSessionIds, type CodexHomeOptions } from '../agents/codex.js';
import { waitFor } from '../harness.js';
import {
  FakeResponses,
  functionCallOutput,
  isStructured,
  lastIsFunctionCallOutput,
  lastUserText,
  sessionIdOf,
  type RecordedRequest,
  type Script,
} from './openai-responses.js';

const run = promisify(execFile);

interface SseEvent {
  event: string;
  data: { type: string; [key: string]: unknown };
}

async function postResponses(fake: FakeResponses, body: object): Promise<{ status: number; events: SseEvent[]; contentType: string | null }> {
  const res = await fetch(`${fake.url}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}') as SseEvent['data'];
      return { event, data };
    });
  return { status: res.status, events, contentType: res.headers.get('content-type') };
}

const userMessage = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

describe('FakeResponses', () => {
  let fake: FakeResponses;
  before(async () => {
    fake = await FakeResponses.start([
      { when: lastIsFunctionCallOutput, reply: (req) => ({ text: `saw ${functionCallOutput(req)?.text ?? '?'}` }) },
      { when: (req) => lastUserText(req) === 'run it', reply: { text: 'Running.', shell: { command: ['touch', 'a b.txt'] }, usage: { input_tokens: 7, cached_tokens: 3, output_tokens: 2, reasoning_tokens: 1 } } },
      { when: (req) => lastUserText(req) === 'fail', reply: { error: { status: 400, message: 'bad request' } } },
    ]);
  });
  after(async () => fake.close());

  test('streams a text reply as Responses API events, with usage on response.completed', async () => {
    const { status, events, contentType } = await postResponses(fake, { model: 'm1', stream: true, input: [userMessage('<environment_context/>'), userMessage('hi')] });
    assert.equal(status, 200);
    assert.match(contentType ?? '', /^text\/event-stream/);
    assert.deepEqual(
      events.map((e) => e.event),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        ...events.filter((e) => e.event === 'response.output_text.delta').map(() => 'response.output_text.delta'),
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.ok(events.every((e, i) => e.data.type === e.event && e.data.sequence_number === i));
    const text = events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta as string).join('');
    assert.equal(text, 'ok', 'an unmatched request gets a plain text reply');
    const done = events.find((e) => e.event === 'response.output_item.done')?.data.item as { type: string; role: string; content: { type: string; text: string }[] };
    assert.deepEqual([done.type, done.role, done.content[0]?.type, done.content[0]?.text], ['message', 'assistant', 'output_text', 'ok']);
    const completed = events.at(-1)?.data.response as { status: string; model: string; usage: { input_tokens: number; total_tokens: number; output_tokens: number } };
    assert.equal(completed.status, 'completed');
    assert.equal(completed.model, 'm1');
    assert.equal(completed.usage.total_tokens, completed.usage.input_tokens + completed.usage.output_tokens);
    const req = fake.requests.at(-1) as RecordedRequest;
    assert.equal(lastUserText(req), 'hi');
    assert.deepEqual(req.reply?.usage, completed.usage);
  });

  test('a shell reply is a function call to the shell tool the request offers; its output is readable next turn', async () => {
    const first = await postResponses(fake, { stream: true, tools: [{ type: 'function', name: 'exec_command' }], input: [userMessage('run it')] });
    const call = first.events.filter((e) => e.event === 'response.output_item.done').map((e) => e.data.item as { type: string; name?: string; arguments?: string; call_id?: string });
    assert.equal(call[0]?.type, 'message');
    assert.equal(call[1]?.type, 'function_call');
    assert.equal(call[1]?.name, 'exec_command');
    assert.deepEqual(JSON.parse(call[1]?.arguments ?? ''), { cmd: "touch 'a b.txt'" });
    const usage = (first.events.at(-1)?.data.response as { usage: object }).usage;
    assert.deepEqual(usage, { input_tokens: 7, input_tokens_details: { cached_tokens: 3 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 9 });

    const legacy = await postResponses(fake, { stream: true, tools: [{ type: 'function', name: 'shell' }], input: [userMessage('run it')] });
    const legacyCall = legacy.events.filter((e) => e.event === 'response.output_item.done').at(-1)?.data.item as { name: string; arguments: string };
    assert.deepEqual([legacyCall.name, JSON.parse(legacyCall.arguments)], ['shell', { command: ['touch', 'a b.txt'] }]);

    const second = await postResponses(fake, {
      stream: true,
      input: [userMessage('run it'), { type: 'function_call', call_id: call[1]?.call_id, name: 'exec_command', arguments: '{}' }, { type: 'function_call_output', call_id: call[1]?.call_id, output: 'exit 0' }],
    });
    const answer = second.events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta as string).join('');
    assert.equal(answer, 'saw exit 0');
    assert.equal(functionCallOutput(fake.requests.at(-1) as RecordedRequest)?.callId, call[1]?.call_id);
  });

  test('structured-output (thread title) requests get schema-shaped JSON; errors, /models, other paths; usage totals', async () => {
    const before = fake.reportedUsage();
    const titled = await postResponses(fake, {
      stream: true,
      text: { format: { type: 'json_schema', name: 'codex_output_schema', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } } },
      input: [userMessage('run it')],
    });
    const title = titled.events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta as string).join('');
    assert.deepEqual(JSON.parse(title), { title: 'Fake title' });
    assert.ok(isStructured(fake.requests.at(-1) as RecordedRequest));

    const failed = await fetch(`${fake.url}/responses`, { method: 'POST', body: JSON.stringify({ input: [userMessage('fail')] }) });
    assert.equal(failed.status, 400);
    assert.equal(((await failed.json()) as { error: { message: string } }).error.message, 'bad request');
    const models = await fetch(`${fake.url}/models`);
    assert.equal(models.status, 200);
    assert.equal((await fetch(`${fake.url}/nothing`)).status, 404);

    const after = fake.reportedUsage();
    assert.equal(after.replies, before.replies + 1, 'errors report no usage');
    const last = fake.requests.filter((r) => r.reply?.usage).at(-1)?.reply?.usage;
    assert.equal(after.total_tokens - before.total_tokens, last?.total_tokens);
  });
});

/** A tmux server of our own (its own socket), driven with argv only. */
class PrivateTmux {
  readonly socket: string;
  constructor(dir: string) {
    this.socket = path.join(dir, 't.sock');
  }
  async run(...args: string[]): Promise<string> {
    return (await run('tmux', ['-f', '/dev/null', '-S', this.socket, ...args], { encoding: 'utf8' })).stdout;
  }
  async start(name: string, cwd: string, env: Record<string, string>, argv: string[]): Promise<void> {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    await this.run('new-session', '-d', '-s', name, '-x', '150', '-y', '40', '-c', cwd, 'env', ...vars, ...argv);
    await this.run('set-option', '-g', 'remain-on-exit', 'on');
  }
  async screen(name: string): Promise<string> {
    return this.run('capture-pane', '-p', '-J', '-S', '-200', '-t', name);
  }
  async type(name: string, text: string): Promise<void> {
    await this.run('send-keys', '-t', name, '-l', text);
    // Codex treats keys arriving in a burst right before Enter as a paste.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await this.run('send-keys', '-t', name, 'Enter');
  }
  async keys(name: string, ...keys: string[]): Promise<void> {
    await this.run('send-keys', '-t', name, ...keys);
  }
  async paneDead(name: string): Promise<boolean> {
    return (await this.run('display-message', '-p', '-t', name, '#{pane_dead}')).trim() === '1';
  }
  async kill(): Promise<void> {
    await this.run('kill-server').catch(() => undefined);
  }
}

const haveTmux = spawnSync('tmux', ['-V']).status === 0;
const haveCodex = existsSync(codexBin);

describe('the real Codex CLI against FakeResponses, in tmux', { skip: !haveTmux || !haveCodex ? 'needs tmux and the pinned codex' : false }, () => {
  const ANSWER = 'Hello from the fake Responses server';
  const script: Script = [
    { when: lastIsFunctionCallOutput, reply: (req) => ({ text: `Command done (${functionCallOutput(req)?.callId ?? '?'})` }) },
    { when: (req) => lastUserText(req).includes('make the file'), reply: { text: 'Creating it.', shell: { command: ['touch', 'made-by-codex.txt'] } } },
    { when: (req) => lastUserText(req).includes('escalate'), reply: { shell: { command: ['touch', 'escalated.txt'], escalate: 'Create escalated.txt?' } } },
    { when: (req) => lastUserText(req).includes('say hello'), reply: { text: ANSWER, usage: { input_tokens: 4321, cached_tokens: 1234, output_tokens: 56, reasoning_tokens: 7 } } },
    { when: (req) => lastUserText(req).includes('again'), reply: { text: 'Resumed answer' } },
  ];
  let fake: FakeResponses;
  let dir: string;
  let tmux: PrivateTmux;
  let notifyScript: string;
  let count = 0;

  before(async () => {
    fake = await FakeResponses.start(script);
    dir = mkdtempSync('/tmp/cpt-codex-test-');
    tmux = new PrivateTmux(dir);
    notifyScript = path.join(dir, 'notify.mjs');
    // Codex runs the notify command with one more argument: the event as JSON.
    await writeFile(notifyScript, "import { appendFileSync } from 'node:fs';\nappendFileSync(process.argv[2], process.argv[3] + '\\n');\n");
  });
  after(async () => {
    await tmux.kill();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `codex --no-alt-screen [...args]` in a fresh CODEX_HOME and cwd; waits for the composer and the session id. */
  async function startCodex(options: Partial<CodexHomeOptions> = {}, args: string[] = [], reuse?: { codexHome: string; cwd: string }) {
    const n = ++count;
    const cwd = reuse?.cwd ?? path.join(dir, `work${n}`);
    await mkdir(cwd, { recursive: true });
    const notifyLog = path.join(dir, `notify${n}.log`);
    const home = await prepareCodexHome({
      baseUrl: fake.url,
      codexHome: reuse?.codexHome ?? path.join(dir, `home${n}`),
      notifyCommand: [process.execPath, notifyScript, notifyLog],
      trustedDirs: [cwd],
      ...options,
    });
    const known = new Set(await startedSessionIds(home.codexHome));
    const name = `codex${n}`;
    await tmux.start(name, cwd, home.env, [home.bin, ...args, '--no-alt-screen']);
    await waitFor('the composer', async () => (await tmux.screen(name)).includes('Ask Codex to do anything'), 20_000);
    const sessionId = args[0] === 'resume' ? (args[1] as string) : await waitFor('the session id', async () => (await startedSessionIds(home.codexHome)).find((id) => !known.has(id)), 10_000);
    return { name, cwd, home, notifyLog, sessionId };
  }

  async function notifications(file: string): Promise<Record<string, unknown>[]> {
    if (!existsSync(file)) return [];
    return (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  test('a prompt gets the scripted answer on screen, a rollout with matching token counts, and a notify call', async () => {
    const s = await startCodex();
    assert.equal(await rolloutFile(s.home.codexHome, s.sessionId), undefined, 'no rollout before the first prompt');
    await tmux.type(s.name, 'please say hello');
    await waitFor('the answer on screen', async () => (await tmux.screen(s.name)).includes(ANSWER), 20_000);

    const file = await waitFor('the rollout', () => rolloutFile(s.home.codexHome, s.sessionId));
    assert.match(path.relative(s.home.codexHome, file), new RegExp(`^sessions/\\d{4}/\\d{2}/\\d{2}/rollout-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-${s.sessionId}\\.jsonl$`));
    const expected = fake.reportedUsage((r) => sessionIdOf(r) === s.sessionId);
    assert.equal(expected.replies, 1);
    const lines = await waitFor('the final token_count', async () => {
      const all = await readRollout(file);
      return all.some((l) => l.type === 'event_msg' && l.payload.type === 'task_complete') ? all : undefined;
    });
    const meta = lines[0];
    assert.equal(meta?.type, 'session_meta');
    assert.equal(meta?.payload.id, s.sessionId);
    assert.equal(meta?.payload.cwd, s.cwd);
    assert.equal(meta?.payload.model_provider, 'fake');
    const items = lines.filter((l) => l.type === 'response_item').map((l) => l.payload as { type: string; role?: string; content?: { text?: string }[] });
    assert.ok(items.some((i) => i.role === 'user' && i.content?.[0]?.text === 'please say hello'));
    assert.ok(items.some((i) => i.role === 'assistant' && i.content?.[0]?.text === ANSWER));
    const { replies: _replies, ...usage } = expected;
    assert.deepEqual(lastTotalTokenUsage(lines), { ...usage, cache_write_input_tokens: 0 });
    assert.deepEqual(usage, { input_tokens: 4321, cached_input_tokens: 1234, output_tokens: 56, reasoning_output_tokens: 7, total_tokens: 4377 });

    // The title request runs on a thread of its own and is not counted in this session.
    await waitFor('the thread-title request', () => fake.requests.some((r) => isStructured(r) && sessionIdOf(r) !== s.sessionId));

    const note = await waitFor('notify', async () => (await notifications(s.notifyLog)).find((n) => n['thread-id'] === s.sessionId));
    assert.equal(note.type, 'agent-turn-complete');
    assert.equal(note['last-assistant-message'], ANSWER);
    assert.deepEqual(note['input-messages'], ['please say hello']);
    assert.equal(note.cwd, s.cwd);
    assert.equal(typeof note['turn-id'], 'string');

    // Quit (Ctrl-C twice): it prints how to resume, then exits.
    await tmux.keys(s.name, 'C-c');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await tmux.keys(s.name, 'C-c');
    await waitFor('exit', () => tmux.paneDead(s.name), 10_000);
    assert.ok((await tmux.screen(s.name)).includes(`codex resume ${s.sessionId}`));

    // `codex resume <id>` continues the same thread, appending to the same rollout.
    const r = await startCodex({}, ['resume', s.sessionId], { codexHome: s.home.codexHome, cwd: s.cwd });
    await waitFor('the old answer, replayed', async () => (await tmux.screen(r.name)).includes(ANSWER), 10_000);
    await tmux.type(r.name, 'once again');
    await waitFor('the new answer', async () => (await tmux.screen(r.name)).includes('Resumed answer'), 20_000);
    const resumed = await waitFor('the second turn in the same rollout', async () => {
      const all = await readRollout(file);
      return all.filter((l) => l.type === 'event_msg' && l.payload.type === 'task_complete').length === 2 ? all : undefined;
    });
    const { replies, ...sum } = fake.reportedUsage((q) => sessionIdOf(q) === s.sessionId);
    assert.equal(replies, 2, 'the resumed turn uses the same session id');
    assert.deepEqual(lastTotalTokenUsage(resumed), { ...sum, cache_write_input_tokens: 0 }, 'token_count stays cumulative across resume');
    assert.equal(resumed.filter((l) => l.type === 'session_meta').length, 1);
    await tmux.keys(r.name, 'C-c');
  });

  test('a scripted shell call runs without asking under approval_policy = "never"', async () => {
    const s = await startCodex({ approvalPolicy: 'never', sandboxMode: 'danger-full-access' });
    await tmux.type(s.name, 'please make the file');
    const made = path.join(s.cwd, 'made-by-codex.txt');
    await waitFor('the file', () => existsSync(made), 20_000);
    await waitFor('the follow-up answer', async () => (await tmux.screen(s.name)).includes('Command done (call_fake_'), 20_000);
    const screen = await tmux.screen(s.name);
    assert.ok(screen.includes('Ran touch made-by-codex.txt'), screen);
    const followUp = fake.requests.find((r) => sessionIdOf(r) === s.sessionId && lastIsFunctionCallOutput(r));
    assert.match(functionCallOutput(followUp as RecordedRequest)?.text ?? '', /Process exited with code 0/);
    await tmux.keys(s.name, 'C-c');
  });

  test('with approval required, Codex shows an approval prompt; Enter (choice 1) approves and the command runs', async () => {
    const s = await startCodex({ approvalPolicy: 'on-request', sandboxMode: 'workspace-write' });
    await tmux.type(s.name, 'please escalate');
    const prompt = await waitFor('the approval prompt', async () => {
      const screen = await tmux.screen(s.name);
      return screen.includes('Would you like to run the following command?') && screen.includes('Press enter to confirm') ? screen : undefined;
    }, 20_000);
    assert.ok(prompt.includes('Reason: Create escalated.txt?'), prompt);
    assert.ok(prompt.includes('$ touch escalated.txt'), prompt);
    assert.ok(prompt.includes('1. Yes, proceed (y)'), prompt);
    assert.ok(prompt.includes('3. No, and tell Codex what to do differently (esc)'), prompt);
    const made = path.join(s.cwd, 'escalated.txt');
    assert.equal(existsSync(made), false);
    assert.deepEqual(
      (await notifications(s.notifyLog)).filter((n) => n['thread-id'] === s.sessionId),
      [],
      'notify is not called for an approval request',
    );
    await tmux.keys(s.name, 'Enter');
    await waitFor('the approved file', () => existsSync(made), 20_000);
    await waitFor('the approval noted on screen', async () => (await tmux.screen(s.name)).includes('You approved codex to run touch escalated.txt'), 10_000);
    await tmux.keys(s.name, 'C-c');
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyticsEndpoints } from '@codepiper/analytics-contract';
import { auditEndpoints } from '@codepiper/audit-contract';
import { ApiError, databasePath } from '@codepiper/sdk';
import { approvalEndpoints, policyEndpoints } from '@codepiper/policies-contract';
import { claudeCodeEndpoints, HOOK_BODY_LIMIT_BYTES } from '@codepiper/claude-code-contract';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { MAX_IMAGE_BYTES, sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { FORWARDER_DIGEST, LOGGED_CALL_CHARS, LOGGED_TEXT_CHARS, offlineFile } from '@codepiper/sessions-contract/agent-hooks';
import { claudeBin, prepareClaudeHome, removeClaudeHome, writeStandInClaude, type ClaudeHome } from './agents/claude.js';
import { TestDaemon, waitFor } from './harness.js';
import { FakeAnthropic, hasToolResult, imagesOf, isMainConversation, lastUserText, toolResultText, type RecordedRequest } from './model-servers/anthropic.js';

const HELPER_KEY = 'sk-ant-helper-key-for-tests-0123456789';
const DAEMON_KEY = 'sk-ant-daemon-key-must-not-leak-98765';
const MODEL_A = 'claude-sonnet-4-5';
const MODEL_B = 'claude-opus-4-5';
/** A 1x1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
/** The default model in the user's own Claude settings (written by the model-switch test). */
const USER_DEFAULT = 'claude-haiku-4-5';

interface UsageTotalsRow {
  replies: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_5m: number;
  cache_creation_1h: number;
  cache_read_tokens: number;
}

/** The tool of the call the request's last tool result answers. */
function lastToolName(req: RecordedRequest): string | undefined {
  const id = toolResultText(req)?.toolUseId;
  for (const message of [...(req.body.messages ?? [])].reverse()) {
    if (typeof message.content === 'string') continue;
    const call = message.content.find((b) => b.type === 'tool_use' && b.id === id);
    if (call) return String(call.name);
  }
  return undefined;
}

/** What the forwarder prints for a PreToolUse when the daemon does not answer. */
const FALLBACK_ASK = '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"ask","permissionDecisionReason":"CodePiper could not reach its daemon: ask the person"}}';

/** Runs a file with a JSON payload on stdin, as Claude Code runs a hook (the settings pass the event as an argument). */
function runHook(script: string, payload: object, args: string[] = []): { code: number; stdout: string; stderr: string; ms: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync(script, args, { input: JSON.stringify(payload), encoding: 'utf8', timeout: 20_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

describe('claude-code provider with the real Claude Code against a fake Anthropic API', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workdir: string;
  let session: SessionRecord;

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-cc-work-');
    fake = await FakeAnthropic.start([
      { when: (r) => isMainConversation(r) && (toolResultText(r)?.text ?? '').includes('the secret number is 42'), reply: { text: 'the notes say 42' } },
      { when: (r) => isMainConversation(r) && hasToolResult(r) && lastToolName(r) === 'Write', reply: { text: 'the file is written' } },
      { when: (r) => isMainConversation(r) && hasToolResult(r), reply: { text: 'the file is gone' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('read the notes'), reply: () => ({ toolUse: { name: 'Read', input: { file_path: path.join(workdir, 'notes.txt') } } }) },
      {
        when: (r) => isMainConversation(r) && lastUserText(r).includes('write the report'),
        reply: () => ({ toolUse: { name: 'Write', input: { file_path: path.join(workdir, 'report.txt'), content: 'written by claude\n' } } }),
      },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remove the victim'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f victim.txt', description: 'Remove victim.txt' } } } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('say hello'), reply: { text: 'hello from the fake model' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('what is in the picture'), reply: { text: 'a single pixel' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('offline turn'), reply: { text: 'answered while the daemon was down' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('which model'), reply: (r) => ({ text: `I am ${r.body.model ?? '?'}` }) },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remember'), reply: { text: 'I remember everything' } },
    ]);
    home = await prepareClaudeHome({ cwd: workdir, apiKey: HELPER_KEY, baseUrl: fake.url });
    daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin, ANTHROPIC_API_KEY: DAEMON_KEY });
  });
  after(async () => {
    if (session) await daemon?.client.call(sessionEndpoints.kill, { params: { id: session.id } }).catch(() => undefined);
    await daemon?.dispose();
    await fake?.close();
    rmSync(workdir, { recursive: true, force: true });
    await removeClaudeHome(home);
  });

  const events = async (type: string): Promise<CodePiperEvent[]> =>
    (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type, limit: 10000 } })).events;
  /** Waits for the session's event; a timeout says what Claude showed and what the daemon did with the session. */
  const waitEvent = (type: string, match: (e: CodePiperEvent) => boolean = () => true, timeoutMs = 60_000): Promise<CodePiperEvent> =>
    waitFor(`event ${type}`, async () => (await events(type)).find(match), timeoutMs).catch(async (error: Error) => {
      const recent = (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, newest: true, limit: 15 } })).events.reverse();
      const shown = await screen().catch((e: Error) => `(no screen: ${e.message})`);
      throw new Error(
        `${error.message}\nthe session's last events: ${recent.map((e) => `${e.type} ${JSON.stringify(e.payload).slice(0, 120)}`).join('\n  ')}\n` +
          `its screen:\n${shown}\nthe daemon's log of it:\n${daemon.logLines(session.id.slice(0, 8)).slice(-20).join('\n')}`,
      );
    });
  const show = () => daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
  const screen = async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
  const payloadOf = (e: CodePiperEvent) => e.payload as Record<string, unknown>;
  /** The session's usage as the analytics ledger holds it. */
  const usageTotals = async (): Promise<UsageTotalsRow> => {
    const { total } = await daemon.client.call(analyticsEndpoints.usage, { query: { session: session.id } });
    return {
      replies: total.responses,
      input_tokens: total.input,
      output_tokens: total.output,
      cache_creation_5m: total.cacheWrite5m,
      cache_creation_1h: total.cacheWrite1h,
      cache_read_tokens: total.cacheRead,
    };
  };
  const expectedUsage = () => {
    const t = fake.reportedUsage(isMainConversation);
    return {
      replies: t.replies,
      input_tokens: t.input_tokens,
      output_tokens: t.output_tokens,
      cache_creation_5m: t.ephemeral_5m_input_tokens,
      cache_creation_1h: t.ephemeral_1h_input_tokens,
      cache_read_tokens: t.cache_read_input_tokens,
    };
  };
  const stopCount = async () => (await events('claude.Stop')).length;
  const send = async (text: string) => {
    const result = await daemon.cli(['send', session.id.slice(0, 8), text]);
    assert.equal(result.code, 0, result.stderr);
  };
  /** No policy covers `tool`: the default ask is a pending approval; it is approved from the CLI. */
  const approvePending = async (tool: string) => {
    const approval = await waitFor(`a pending approval for ${tool}`, async () =>
      (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.sessionId === session.id && a.tool === tool),
    );
    assert.equal(approval.policyName, 'default');
    const approved = await daemon.cli(['approve', approval.id.slice(0, 8)]);
    assert.equal(approved.code, 0, approved.stderr);
  };

  test('starts Claude with its own session id, a private settings overlay and the hooks wired', async () => {
    session = await daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'claude-code', cwd: workdir, env: { ...home.env }, options: { model: MODEL_A, permissionMode: 'default' } },
    });
    assert.equal(session.command[0], claudeBin);
    assert.deepEqual(session.command.slice(1, 3), ['--session-id', session.id]);
    assert.ok(session.command.includes('--settings'));
    assert.deepEqual(session.command.slice(-4), ['--permission-mode', 'default', '--model', MODEL_A]);
    assert.equal(session.metadata.claudeSessionId, session.id);
    assert.equal(session.metadata.billing, 'subscription');
    const settingsPath = String(session.metadata.settingsPath);
    assert.equal(statSync(settingsPath).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(settingsPath)).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(path.dirname(settingsPath), 'hook.sh')).mode & 0o777, 0o700);
    const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as { hooks: Record<string, unknown[]> };
    assert.deepEqual(Object.keys(settings.hooks).sort(), [
      'Notification', 'PermissionRequest', 'PostToolUse', 'PreCompact', 'PreToolUse', 'SessionEnd', 'SessionStart', 'Stop', 'StopFailure', 'SubagentStop', 'UserPromptSubmit',
    ]);
    assert.doesNotMatch(readFileSync(path.join(path.dirname(settingsPath), 'hook.sh'), 'utf8'), /key=|Bearer/, 'the secret is not in the script');

    const started = await waitEvent('claude.SessionStart');
    assert.equal(payloadOf(started).session_id, session.id);
    assert.equal(payloadOf(started).hook_event_name, 'SessionStart');
    assert.equal(started.source, 'provider-claude-code');
    await waitFor('status idle after SessionStart', async () => (await show()).status === 'idle', 30_000);
    // The user's own settings were not touched.
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(path.join(home.configDir, 'settings.json'), 'utf8')) as object), ['apiKeyHelper']);
  });

  test('a prompt sent with `codepiper send` gets the answer; hooks become events and status', async () => {
    await send('say hello');
    const stop = await waitEvent('claude.Stop');
    assert.equal(payloadOf(stop).last_assistant_message, 'hello from the fake model');
    const prompt = await waitEvent('claude.UserPromptSubmit');
    assert.equal(payloadOf(prompt).prompt, 'say hello');
    assert.equal(payloadOf(prompt).session_id, session.id);
    await waitFor('the answer on screen', async () => (await screen()).includes('hello from the fake model'), 20_000);
    // The Stop hook's event is stored before the status change it causes.
    let statuses: string[] = [];
    await waitFor('working, then idle', async () => {
      statuses = (await events('session.status')).map((e) => (e.payload as { to: string }).to);
      return statuses.indexOf('working') >= 0 && statuses.slice(statuses.indexOf('working')).includes('idle');
    }).catch(() => assert.fail(`statuses: ${statuses.join(' ')}`));
    assert.equal((await show()).status, 'idle');
    // Subscription billing: the daemon's ANTHROPIC_API_KEY never reached Claude; the apiKeyHelper key did.
    const main = fake.messageRequests().filter(isMainConversation);
    assert.ok(main.length > 0);
    for (const req of main) {
      const sent = JSON.stringify([req.headers['x-api-key'], req.headers.authorization]);
      assert.ok(!sent.includes(DAEMON_KEY), `the daemon key leaked: ${sent}`);
      assert.ok(sent.includes(HELPER_KEY), `the helper key was not used: ${sent}`);
    }
  });

  test('a risky Bash call: PreToolUse and PermissionRequest events, status waiting with detail, a pending approval, then approved', async () => {
    writeFileSync(path.join(workdir, 'victim.txt'), 'x');
    const stopsBefore = await stopCount();
    await send('please remove the victim file');
    const pre = await waitEvent('claude.PreToolUse');
    assert.equal(payloadOf(pre).tool_name, 'Bash');
    assert.deepEqual((payloadOf(pre).tool_input as { command: string }).command, 'rm -f victim.txt');
    const request = await waitEvent('claude.PermissionRequest');
    assert.equal(payloadOf(request).tool_name, 'Bash');
    const waiting = await waitFor('status waiting', async () => {
      const s = await show();
      return s.status === 'waiting' ? s : undefined;
    });
    assert.match(waiting.statusDetail ?? '', /^permission: Bash rm -f victim\.txt/);
    await approvePending('Bash');
    await waitEvent('claude.PostToolUse');
    await waitFor('the turn to end', async () => (await stopCount()) > stopsBefore, 60_000);
    await waitFor('status idle', async () => (await show()).status === 'idle');
  });

  test('the transcript shows user, assistant, tool call and tool result entries', async () => {
    // Claude may write the turn's last line just after its Stop hook.
    const entries = await waitFor('the last answer in the transcript', async () => {
      const { entries } = await daemon.client.call(sessionEndpoints.transcript, { params: { id: session.id } });
      return entries.some((e) => e.kind === 'assistant' && e.text === 'the file is gone') ? entries : undefined;
    });
    assert.ok(entries.some((e) => e.kind === 'user' && e.text === 'say hello'));
    assert.ok(entries.some((e) => e.kind === 'assistant' && e.text === 'hello from the fake model' && e.model === MODEL_A));
    const call = entries.find((e) => e.kind === 'tool_call');
    assert.equal(call?.tool?.name, 'Bash');
    assert.deepEqual((call?.tool?.input as { command: string }).command, 'rm -f victim.txt');
    const result = entries.find((e) => e.kind === 'tool_result');
    assert.equal(result?.tool?.name, 'Bash');
    assert.ok(entries.some((e) => e.kind === 'assistant' && e.text === 'the file is gone'));
  });

  test('Read (allowed by a policy) runs without a prompt; Write asks, and once approved the file is written; both show as hooks and in the transcript', async () => {
    await daemon.client.call(policyEndpoints.create, { body: { action: 'allow', tool: 'Read', reason: 'File reads are safe' } });
    writeFileSync(path.join(workdir, 'notes.txt'), 'the secret number is 42\n');
    let stops = await stopCount();
    await send('please read the notes');
    const read = await waitEvent('claude.PostToolUse', (e) => payloadOf(e).tool_name === 'Read');
    assert.equal((payloadOf(read).tool_input as { file_path: string }).file_path, path.join(workdir, 'notes.txt'));
    await waitFor('the turn to end', async () => (await stopCount()) > stops, 60_000);
    assert.equal((await events('claude.PermissionRequest')).filter((e) => payloadOf(e).tool_name === 'Read').length, 0, 'no prompt for a read');
    assert.equal(payloadOf((await events('claude.Stop')).at(-1)!).last_assistant_message, 'the notes say 42');

    stops = await stopCount();
    await send('now write the report');
    await waitEvent('claude.PermissionRequest', (e) => payloadOf(e).tool_name === 'Write');
    await approvePending('Write');
    await waitEvent('claude.PostToolUse', (e) => payloadOf(e).tool_name === 'Write');
    await waitFor('the turn to end', async () => (await stopCount()) > stops, 60_000);
    assert.equal(readFileSync(path.join(workdir, 'report.txt'), 'utf8'), 'written by claude\n');

    const { entries } = await waitFor('the write in the transcript', async () => {
      const t = await daemon.client.call(sessionEndpoints.transcript, { params: { id: session.id } });
      return t.entries.some((e) => e.kind === 'assistant' && e.text === 'the file is written') ? t : undefined;
    });
    assert.ok(entries.some((e) => e.kind === 'tool_call' && e.tool?.name === 'Read'));
    assert.ok(entries.some((e) => e.kind === 'tool_call' && e.tool?.name === 'Write' && (e.tool.input as { content: string }).content === 'written by claude\n'));
  });

  test('token usage rows equal what the model server reported, once per response', async () => {
    await waitFor('usage rows to match', async () => JSON.stringify(await usageTotals()) === JSON.stringify(expectedUsage()) || undefined, 15_000).catch(() => undefined);
    assert.deepEqual(await usageTotals(), expectedUsage());
  });

  test('with the daemon down the forwarder asks on PreToolUse and exits 1 silently otherwise; what it kept is taken in as the daemon starts; tailing resumes without double counting', async () => {
    const forwarder = path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.sh');
    const payload = { session_id: session.id, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'rm -rf /' }, cwd: workdir, transcript_path: '' };
    const stopsBefore = await stopCount();
    await daemon.stop();
    const down = runHook(forwarder, payload, ['PreToolUse', '5']);
    assert.deepEqual([down.code, down.stdout, down.stderr], [0, FALLBACK_ASK, '']);
    const post = runHook(forwarder, { ...payload, hook_event_name: 'PostToolUse' }, ['PostToolUse', '5']);
    assert.deepEqual([post.code, post.stdout, post.stderr], [1, '', '']);
    const failed = runHook(forwarder, { ...payload, hook_event_name: 'StopFailure', error: 'rate_limit: while the daemon was down' }, ['StopFailure', '5']);
    assert.deepEqual([failed.code, failed.stdout], [1, '']);

    // Claude keeps running in tmux; a turn happens while the daemon is down.
    const before = fake.messageRequests().filter(isMainConversation).length;
    assert.equal(daemon.tmux(['send-keys', '-t', `cp-${session.id}`, '-l', 'an offline turn']).code, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(daemon.tmux(['send-keys', '-t', `cp-${session.id}`, 'Enter']).code, 0);
    await waitFor('the offline answer', () => fake.messageRequests().filter(isMainConversation).length > before || undefined, 30_000);
    const transcript = String(session.metadata.transcriptPath);
    await waitFor('the offline answer in the transcript', () => readFileSync(transcript, 'utf8').includes('answered while the daemon was down') || undefined, 30_000);

    await daemon.start();
    // The forwarder kept the turn's hooks: taken in as the daemon started, with no new hook, so the session is idle again.
    const offline = (await events('claude.UserPromptSubmit')).filter((e) => payloadOf(e).prompt === 'an offline turn');
    assert.deepEqual([offline.length, await stopCount(), (await show()).status], [1, stopsBefore + 1, 'idle'], 'the offline turn taken in once, ended');
    const turnErrors = (await events('session.turn_ended')).map((e) => payloadOf(e).error);
    assert.ok(turnErrors.includes('rate_limit: while the daemon was down'), `a kept StopFailure ends its turn with its error: ${JSON.stringify(turnErrors)}`);
    await waitFor('usage rows to catch up', async () => JSON.stringify(await usageTotals()) === JSON.stringify(expectedUsage()) || undefined, 20_000).catch(() => undefined);
    assert.deepEqual(await usageTotals(), expectedUsage());

    // After the restart, hooks flow again (the secret is checked from the session's metadata).
    const stops = await stopCount();
    await send('say hello');
    await waitFor('a Stop after the restart', async () => (await stopCount()) > stops, 60_000);
    await waitFor('usage rows to match', async () => JSON.stringify(await usageTotals()) === JSON.stringify(expectedUsage()) || undefined, 15_000).catch(() => undefined);
    assert.deepEqual(await usageTotals(), expectedUsage());
  });

  test('a forwarder another version wrote is replaced by this version’s as the daemon adopts the session, and its hooks go on', async () => {
    const forwarder = path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.sh');
    const current = readFileSync(forwarder, 'utf8');
    await daemon.stop();
    // As a version before this one wrote it (its temporary files left behind), and the session's record as that version kept it.
    const older = current.replace(/^trap 'rm -f "\$in" "\$out"' EXIT\n/m, '');
    assert.notEqual(older, current);
    writeFileSync(forwarder, older);
    const recorded = spawnSync('sqlite3', [databasePath(daemon.home), `UPDATE sessions SET metadata = json_remove(metadata, '$.${FORWARDER_DIGEST}') WHERE id = '${session.id}'`], { encoding: 'utf8' });
    assert.equal(recorded.status, 0, recorded.stderr);

    await daemon.start();
    await waitFor('the forwarder brought up to date', () => readFileSync(forwarder, 'utf8') === current || undefined, 20_000);
    assert.equal(statSync(forwarder).mode & 0o777, 0o700);
    await waitFor('the new forwarder recorded', async () => typeof (await show()).metadata[FORWARDER_DIGEST] === 'string' || undefined, 10_000);
    const stops = await stopCount();
    await send('say hello');
    await waitFor('a Stop through the new forwarder', async () => (await stopCount()) > stops, 60_000);
  });

  test('a wrong secret gets 401 and the forwarder asks on PreToolUse, exits 1 with nothing on stdout otherwise', async () => {
    await assert.rejects(
      daemon.client.call(claudeCodeEndpoints.hook, { params: { session: session.id }, headers: { authorization: 'Bearer wrong' }, body: { hook_event_name: 'PreToolUse' } }),
      (error: unknown) => error instanceof ApiError && error.status === 401,
    );
    const dir = path.dirname(String(session.metadata.settingsPath));
    // The right secret, at a prefix of the session's id: a hook's address is the whole id.
    const secret = /Bearer ([0-9a-f]{64})/.exec(readFileSync(path.join(dir, 'hook.curl'), 'utf8'))?.[1];
    await assert.rejects(
      daemon.client.call(claudeCodeEndpoints.hook, { params: { session: session.id.slice(0, 8) }, headers: { authorization: `Bearer ${secret}` }, body: { hook_event_name: 'PreToolUse' } }),
      (error: unknown) => error instanceof ApiError && error.status === 401,
    );
    const scratch = mkdtempSync('/tmp/cpt-cc-hook-');
    try {
      const config = readFileSync(path.join(dir, 'hook.curl'), 'utf8').replace(/[0-9a-f]{64}/g, 'f'.repeat(64));
      writeFileSync(path.join(scratch, 'hook.curl'), config, { mode: 0o600 });
      const script = readFileSync(path.join(dir, 'hook.sh'), 'utf8').replace(path.join(dir, 'hook.curl'), path.join(scratch, 'hook.curl'));
      writeFileSync(path.join(scratch, 'hook.sh'), script, { mode: 0o700 });
      const result = runHook(path.join(scratch, 'hook.sh'), { session_id: session.id, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } }, ['PreToolUse']);
      assert.deepEqual([result.code, result.stdout], [0, FALLBACK_ASK]);
      const post = runHook(path.join(scratch, 'hook.sh'), { session_id: session.id, hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } }, ['PostToolUse']);
      assert.deepEqual([post.code, post.stdout], [1, '']);
      // The real forwarder still works and answers `{}` (nothing to decide after a tool ran).
      const ok = runHook(path.join(dir, 'hook.sh'), { session_id: session.id, hook_event_name: 'PostToolUse', tool_name: 'Read', tool_input: { file_path: '/etc/hostname' } }, ['PostToolUse']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, '{}');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('an image sent with a prompt (send --image) reaches the model as an image, beside the text', async () => {
    const picture = path.join(workdir, 'shot.png');
    writeFileSync(picture, Buffer.from(PNG, 'base64'));
    const stops = await stopCount();
    const result = await daemon.cli(['send', session.id.slice(0, 8), '--image', picture, 'what is in the picture']);
    assert.equal(result.code, 0, result.stderr);
    await waitFor('a Stop after the picture', async () => (await stopCount()) > stops, 60_000);
    const asked = fake.messageRequests().filter(isMainConversation).find((r) => lastUserText(r).includes('what is in the picture'));
    assert.ok(asked, 'the prompt reached the model');
    assert.deepEqual(imagesOf(asked), [{ mediaType: 'image/png', data: PNG }]);
  });

  test('a model switch is typed as /model, recorded as model_switch, and leaves the user\'s own settings byte-identical', async () => {
    // The user's own default model, in a layout and mode Claude would not write itself.
    const userSettings = path.join(home.configDir, 'settings.json');
    const userBytes = Buffer.from(JSON.stringify({ ...(JSON.parse(readFileSync(userSettings, 'utf8')) as object), model: USER_DEFAULT }, null, '\t'));
    writeFileSync(userSettings, userBytes);
    chmodSync(userSettings, 0o640);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stops = await stopCount();
    // The endpoint returns once Claude has taken the switch.
    await daemon.client.call(sessionEndpoints.model, { params: { id: session.id }, body: { model: MODEL_B } });
    const sameBytes = (when: string) => {
      const now = readFileSync(userSettings);
      assert.ok(now.equals(userBytes), `the user settings changed (${when}):\n${now.toString('utf8')}`);
    };
    sameBytes('right after the switch');
    assert.equal(statSync(userSettings).mode & 0o777, 0o640);
    await send('which model are you');
    await waitFor('a Stop after the switch', async () => (await stopCount()) > stops, 60_000);
    const last = fake.messageRequests().filter((r: RecordedRequest) => isMainConversation(r)).at(-1);
    assert.equal(last?.body.model, MODEL_B);
    const switched = await waitEvent('model_switch');
    assert.deepEqual(switched.payload, { from: MODEL_A, to: MODEL_B });
    assert.equal((await show()).metadata.model, MODEL_B);
    sameBytes('a turn later');
  });

  test('stop ends Claude; resume continues the same conversation with --resume', async () => {
    const stopped = await daemon.client.call(sessionEndpoints.stop, { params: { id: session.id } });
    assert.equal(stopped.status, 'exited');
    assert.notEqual(stopped.statusDetail, 'killed: it did not stop in time', `Claude's last screen:\n${await screen()}`);
    assert.equal(stopped.exitCode, 0, `exit: ${stopped.statusDetail ?? ''}`);
    await waitEvent('claude.SessionEnd');
    const resumed = await daemon.client.call(sessionEndpoints.resume, { params: { id: session.id } });
    assert.deepEqual(resumed.command.slice(1, 3), ['--resume', session.id]);
    await waitEvent('claude.SessionStart', (e) => payloadOf(e).source === 'resume');
    const stops = await stopCount();
    await send('do you remember');
    await waitFor('a Stop after resume', async () => (await stopCount()) > stops, 60_000);
    const last = fake.messageRequests().filter(isMainConversation).at(-1);
    assert.ok(JSON.stringify(last?.body.messages).includes('say hello'), 'the resumed conversation carries the earlier prompt');
    await waitFor('usage rows to match', async () => JSON.stringify(await usageTotals()) === JSON.stringify(expectedUsage()) || undefined, 15_000).catch(() => undefined);
    assert.deepEqual(await usageTotals(), expectedUsage());
  });

  test('a new session started after a model switch runs on the user\'s own default model', async () => {
    const fresh = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: workdir, env: { ...home.env }, options: { permissionMode: 'default' } } });
    try {
      assert.ok(!fresh.command.includes('--model'));
      const result = await daemon.cli(['send', fresh.id.slice(0, 8), 'new session: which model are you']);
      assert.equal(result.code, 0, result.stderr);
      const first = await waitFor('the new session\'s first request', () =>
        fake.messageRequests().find((r) => isMainConversation(r) && lastUserText(r).includes('new session: which model')), 60_000);
      assert.equal(first.body.model, USER_DEFAULT);
    } finally {
      await daemon.client.call(sessionEndpoints.kill, { params: { id: fresh.id } }).catch(() => undefined);
    }
  });
});

describe('claude-code transcript tailing and hooks, with a stand-in claude', { timeout: 120_000 }, () => {
  let daemon: TestDaemon;
  let scratch: string;
  let session: SessionRecord;
  let transcript: string;
  let configDir: string;

  before(async () => {
    scratch = mkdtempSync('/tmp/cpt-cc-tail-');
    // Records its argv and API key (if any) where the test can read them, then waits.
    const fakeClaude = writeStandInClaude(
      scratch,
      'mkdir -p "$CLAUDE_CONFIG_DIR"\nprintf "%s\\n" "$@" > "$CLAUDE_CONFIG_DIR/argv"\nprintf "%s" "${ANTHROPIC_API_KEY-unset}" > "$CLAUDE_CONFIG_DIR/key"\nexec sleep 3600',
    );
    daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: fakeClaude, ANTHROPIC_API_KEY: 'sk-daemon-env-key' });
    configDir = path.join(scratch, 'config');
    session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: scratch, env: { CLAUDE_CONFIG_DIR: configDir }, options: { model: 'claude-a' } } });
    transcript = String(session.metadata.transcriptPath);
    assert.equal(transcript, path.join(configDir, 'projects', scratch.replace(/[^a-zA-Z0-9]/g, '-'), `${session.id}.jsonl`));
  });
  after(async () => {
    await daemon?.client.call(sessionEndpoints.kill, { params: { id: session.id } }).catch(() => undefined);
    await daemon?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Responses and input tokens the ledger holds for the session. */
  const totals = async () => {
    const { total } = await daemon.client.call(analyticsEndpoints.usage, { query: { session: session.id } });
    return { responses: total.responses, input: total.input, cacheWrite5m: total.cacheWrite5m, cacheWrite1h: total.cacheWrite1h };
  };
  const counted = async (responses: number, input: number) => {
    const t = await totals();
    return t.responses === responses && t.input === input;
  };
  /** Waits for the ledger to hold what was written; a timeout says what the ledger and the daemon's log of the session show. */
  const waitCounted = (what: string, responses: number, input: number) =>
    waitFor(what, () => counted(responses, input)).catch(async (error: Error) => {
      const log = daemon.logLines(session.id).slice(-20).join('\n');
      throw new Error(`${error.message}\nthe ledger: ${JSON.stringify(await totals())}; the transcript ${existsSync(transcript) ? 'exists' : 'is missing'}\nthe daemon's log of the session:\n${log}`);
    });
  const assistant = (id: string, model: string, input: number, block: object = { type: 'text', text: `answer ${id}` }) =>
    JSON.stringify({
      type: 'assistant',
      requestId: `req_${id}`,
      timestamp: new Date().toISOString(),
      message: { id, model, role: 'assistant', content: [block], usage: { input_tokens: input, output_tokens: 1, cache_creation_input_tokens: 3, cache_read_input_tokens: 4, cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 1 } } },
    }) + '\n';
  const forward = (payload: object) => runHook(path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.sh'), payload);

  test('the file is followed as it grows: partial lines wait, repeated responses count once, unknown lines are skipped', async () => {
    // Claude writes files of its own beside the folder the transcript will be in; none of them may end the wait for it.
    await waitFor('the stand-in to start', () => existsSync(path.join(configDir, 'argv')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(path.join(configDir, '.claude.json'), '{}\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    mkdirSync(path.dirname(transcript), { recursive: true });
    writeFileSync(transcript, '{"type":"file-history-snapshot","x":1}\nnot json at all\n' + assistant('m1', 'claude-a', 10));
    await waitCounted('m1', 1, 10);
    const second = assistant('m2', 'claude-a', 20);
    appendFileSync(transcript, second.slice(0, 40));
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(await totals(), { responses: 1, input: 10, cacheWrite5m: 2, cacheWrite1h: 1 }, 'a partial line is not read');
    appendFileSync(transcript, second.slice(40) + assistant('m2', 'claude-a', 20, { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }));
    await waitCounted('m2', 2, 30);
    assert.deepEqual(await totals(), { responses: 2, input: 30, cacheWrite5m: 4, cacheWrite1h: 2 }, 'm2, written twice, counts once');
  });

  test('a subagent writing in the background while the session’s transcript is quiet is counted as it writes, with no hook', async () => {
    const before = await totals();
    const subagents = path.join(path.dirname(transcript), path.basename(transcript, '.jsonl'), 'subagents');
    mkdirSync(subagents, { recursive: true });
    writeFileSync(path.join(subagents, 'agent-a1.jsonl'), assistant('s1', 'claude-a', 7));
    await waitCounted('the subagent’s first response', before.responses + 1, before.input + 7);
    appendFileSync(path.join(subagents, 'agent-a1.jsonl'), assistant('s2', 'claude-a', 8));
    await waitCounted('the subagent’s second response', before.responses + 2, before.input + 15);
  });

  test('a model change in the transcript records model_switch and updates the metadata', async () => {
    appendFileSync(transcript, assistant('m3', 'claude-b', 30));
    const switched = await waitFor('model_switch', async () =>
      (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'model_switch' } })).events[0],
    );
    assert.deepEqual(switched.payload, { from: 'claude-a', to: 'claude-b' });
    assert.equal((await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).metadata.model, 'claude-b');
  });

  test('a truncated or replaced file is read again from the start; a restart neither skips nor double-counts', async () => {
    writeFileSync(transcript, assistant('m4', 'claude-b', 40));
    await waitCounted('m4 after truncation', 6, 115);
    await daemon.stop();
    const replacement = `${transcript}.new`;
    writeFileSync(replacement, assistant('m4', 'claude-b', 40) + assistant('m5', 'claude-b', 50));
    renameSync(replacement, transcript);
    appendFileSync(transcript, assistant('m6', 'claude-b', 60));
    await daemon.start();
    await waitCounted('m5 and m6 after the restart', 8, 225);
    assert.deepEqual(await totals(), { responses: 8, input: 225, cacheWrite5m: 16, cacheWrite1h: 8 });
  });

  test('hook payloads are recorded exactly as sent; StopFailure leaves the session idle with the error', async () => {
    const payload = { session_id: session.id, hook_event_name: 'StopFailure', error: 'overloaded_error: the API is overloaded', nested: { a: [1, 'two'] } };
    const result = forward(payload);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '{}');
    const recorded = (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'claude.StopFailure' } })).events[0];
    assert.deepEqual(recorded?.payload, payload);
    const shown = await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
    assert.equal(shown.status, 'idle');
    assert.match(shown.statusDetail ?? '', /overloaded_error/);
  });

  test('billing: subscription removes ANTHROPIC_API_KEY, api keeps it; options.resume continues a given Claude session', async () => {
    const configDir = String((session.metadata.claudeEnv as Record<string, string>).CLAUDE_CONFIG_DIR);
    await waitFor('the stand-in to start', () => readFileSync(path.join(configDir, 'key'), 'utf8') || undefined);
    assert.equal(readFileSync(path.join(configDir, 'key'), 'utf8'), 'unset');
    const apiDir = path.join(scratch, 'config-api');
    const api = await daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'claude-code', cwd: scratch, env: { CLAUDE_CONFIG_DIR: apiDir }, options: { billing: 'api', resume: 'f00dcafe-0000-4000-8000-000000000001' } },
    });
    try {
      assert.deepEqual(api.command.slice(1, 3), ['--resume', 'f00dcafe-0000-4000-8000-000000000001']);
      assert.equal(api.metadata.billing, 'api');
      await waitFor('the api-billed stand-in to start', () => readFileSync(path.join(apiDir, 'key'), 'utf8') || undefined);
      assert.equal(readFileSync(path.join(apiDir, 'key'), 'utf8'), 'sk-daemon-env-key');
    } finally {
      await daemon.client.call(sessionEndpoints.kill, { params: { id: api.id } });
    }
  });

  test('the forwarder relays a PreToolUse and prints the daemon’s answer for Claude', async () => {
    const payload = { session_id: session.id, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } };
    const result = forward(payload);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout),
      { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'no policy matched; the default action is ask' } },
      'no policy decided: the default ask is said explicitly, so that auto mode cannot run it unasked',
    );
    const { events } = await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'claude.PreToolUse' } });
    assert.deepEqual(events.at(-1)?.payload, payload);
  });

  test('a large file written or edited: the policies judge the call, and the event log keeps the call with its long texts cut', async () => {
    const policy = await daemon.client.call(policyEndpoints.create, { body: { action: 'allow', tool: 'Write', reason: 'writes are reviewed in the diff' } });
    try {
      // Claude sends a file it writes in the call, and again in the call's PostToolUse, with the file as it was and their diff line by line.
      const filePath = path.join(scratch, 'generated.json');
      const fileLines = (value: string) => Array.from({ length: 50_000 }, (_, i) => `  "key${i}": "${value}",`);
      const before = `{\n${fileLines('old').join('\n')}\n}\n`;
      const after = `{\n${fileLines('new').join('\n')}\n}\n`;
      const diff = [...fileLines('old').map((line) => `-${line}`), ...fileLines('new').map((line) => `+${line}`)];
      const input = { file_path: filePath, content: after };
      const asked = forward({ session_id: session.id, hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: input });
      assert.equal(asked.code, 0, asked.stderr);
      assert.equal(JSON.parse(asked.stdout).hookSpecificOutput?.permissionDecision, 'allow', 'the policy decided, not the forwarder’s fallback');
      const audited = (await daemon.client.call(auditEndpoints.list, { query: { session: session.id, tool: 'Write', newest: true, limit: 1 } })).entries[0];
      assert.deepEqual(audited?.input, input, 'the audit trail keeps the call whole');

      const sent = {
        session_id: session.id,
        hook_event_name: 'PostToolUse',
        tool_name: 'Write',
        tool_input: input,
        tool_response: { type: 'update', filePath, content: after, originalFile: before, structuredPatch: [{ oldStart: 2, oldLines: 50_000, newStart: 2, newLines: 50_000, lines: diff }] },
      };
      const ran = forward(sent);
      assert.equal(ran.code, 0, ran.stderr);
      const recorded = (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'claude.PostToolUse' } })).events.at(-1);
      const payload = recorded?.payload as { tool_input: typeof input; tool_response: { filePath: string; content: string; originalFile: string; structuredPatch: { newLines: number; lines: string[] }[] } };
      const cut = (text: string) => `${text.slice(0, LOGGED_TEXT_CHARS)}[cut: ${text.length - LOGGED_TEXT_CHARS} more characters]`;
      assert.deepEqual(payload.tool_input, { file_path: filePath, content: cut(after) });
      assert.equal(payload.tool_response.filePath, filePath);
      assert.equal(payload.tool_response.content, cut(after));
      assert.equal(payload.tool_response.originalFile, cut(before));
      const [patch] = payload.tool_response.structuredPatch;
      assert.equal(patch?.newLines, 50_000);
      const keptLines = patch!.lines;
      assert.deepEqual(keptLines.slice(0, -2), diff.slice(0, keptLines.length - 2), 'the diff’s first lines, as sent');
      assert.equal(keptLines.at(-1), `[cut: ${diff.length - keptLines.length + 1} more items]`);
      const sentLength = JSON.stringify(sent).length;
      const keptLength = JSON.stringify(payload).length;
      assert.ok(keptLength < 2 * LOGGED_CALL_CHARS + 4096, `the event log keeps ${keptLength} characters of a hook of ${sentLength}`);
      assert.equal(existsSync(offlineFile(path.dirname(String(session.metadata.settingsPath)))), false, 'nothing was left for later');
    } finally {
      await daemon.client.call(policyEndpoints.remove, { params: { id: policy.id } });
    }
  });

  test('a hook over the size limit is refused: the call is left to the person, and nothing is recorded', async () => {
    const dir = path.dirname(String(session.metadata.settingsPath));
    try {
      const recorded = async () => (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'claude.PreToolUse' } })).events.length;
      const before = await recorded();
      const input = { file_path: path.join(scratch, 'huge.txt'), content: 'x'.repeat(HOOK_BODY_LIMIT_BYTES) };
      // As Claude calls it: the event named, so that the forwarder knows its fallback.
      const result = runHook(path.join(dir, 'hook.sh'), { session_id: session.id, hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: input }, ['PreToolUse']);
      assert.deepEqual([result.code, result.stdout], [0, FALLBACK_ASK], 'the forwarder’s own ask: the daemon took none of it');
      assert.equal(await recorded(), before);
    } finally {
      rmSync(offlineFile(dir), { force: true });
    }
  });

  test('an event kept while the daemon did not answer in time is taken in at the next hook, before it, not at the next start', async () => {
    const dir = path.dirname(String(session.metadata.settingsPath));
    const claudeEvents = async () =>
      (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, newest: true, limit: 10 } })).events.filter((e) => e.type.startsWith('claude.')).reverse();
    // As the forwarder keeps a turn's Stop whose answer did not come in time.
    const stop = { session_id: session.id, hook_event_name: 'Stop', stop_hook_active: false, last_assistant_message: 'kept while the daemon was slow' };
    appendFileSync(offlineFile(dir), `${JSON.stringify(stop)}\n`, { mode: 0o600 });
    const next = forward({ session_id: session.id, hook_event_name: 'UserPromptSubmit', prompt: 'the next turn' });
    assert.equal(next.code, 0, next.stderr);
    const recorded = (await claudeEvents()).slice(-2).map((e) => [e.type, e.payload]);
    assert.deepEqual(recorded, [
      ['claude.Stop', stop],
      ['claude.UserPromptSubmit', { session_id: session.id, hook_event_name: 'UserPromptSubmit', prompt: 'the next turn' }],
    ]);
    assert.equal(existsSync(offlineFile(dir)), false, 'taken');
  });

  test('images: only what it claims to be, within the size, for a live session whose agent reads images; kept privately, removed with the session', async () => {
    const image = (mediaType: string, data: string) =>
      daemon.client.call(sessionEndpoints.image, { params: { id: session.id }, body: { mediaType, data } as never }).then(
        (answer) => answer,
        (error: unknown) => error,
      );
    const kept = await image('image/png', PNG);
    assert.ok(!(kept instanceof Error), String(kept));
    const { file, reference } = kept as { file: string; reference: string };
    assert.deepEqual([reference, statSync(file).mode & 0o777, statSync(path.dirname(file)).mode & 0o777, readFileSync(file).toString('base64')], [`@${file} `, 0o600, 0o700, PNG]);
    const refused = async (mediaType: string, data: string, code: string, message: RegExp) => {
      const error = await image(mediaType, data);
      assert.ok(error instanceof ApiError && error.status === 400 && error.code === code, `${mediaType} ${data.slice(0, 20)}: ${String(error)}`);
      assert.match(error.message, message);
    };
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]).toString('base64');
    await refused('image/png', jpeg, 'invalid_image', /not a image\/png image \(it is image\/jpeg\)/);
    await refused('image/png', Buffer.from('#!/bin/sh\nrm -rf ~\n').toString('base64'), 'invalid_image', /not a image\/png image$/);
    await refused('image/png', '!!! not base64 !!!', 'invalid_image', /not a image\/png image/);
    await refused('image/svg+xml', PNG, 'invalid_request', /mediaType/);
    // Past the size: refused before it is read whole.
    const huge = await image('image/png', 'A'.repeat(Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 4096)).catch((error: unknown) => error);
    assert.ok(huge instanceof ApiError && [400, 413].includes(huge.status), String(huge));

    // The CLI says what is wrong with a file before anything is sent.
    const text = path.join(scratch, 'notes.txt');
    writeFileSync(text, 'not a picture');
    const notImage = await daemon.cli(['send', session.id.slice(0, 8), '--image', text, 'look']);
    assert.deepEqual([notImage.code, notImage.stderr.trim()], [2, `codepiper: --image ${text}: not a PNG, JPEG, GIF or WebP image (see: codepiper send --help)`]);
    const missing = await daemon.cli(['send', session.id.slice(0, 8), '--image', path.join(scratch, 'nope.png'), 'look']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--image .*nope\.png: cannot read it \(ENOENT\)/);

    // A shell reads no images.
    const shell = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: scratch } });
    const unsupported = await daemon.client.call(sessionEndpoints.image, { params: { id: shell.id }, body: { mediaType: 'image/png', data: PNG } }).catch((error: unknown) => error);
    assert.ok(unsupported instanceof ApiError && unsupported.code === 'images_unsupported', String(unsupported));
    await daemon.client.call(sessionEndpoints.kill, { params: { id: shell.id } });

    // Gone with the session.
    const other = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: scratch, env: { CLAUDE_CONFIG_DIR: path.join(scratch, 'config2') } } });
    const { file: otherFile } = await daemon.client.call(sessionEndpoints.image, { params: { id: other.id }, body: { mediaType: 'image/png', data: PNG } });
    await daemon.client.call(sessionEndpoints.kill, { params: { id: other.id } });
    const otherDir = path.dirname(String(other.metadata.settingsPath));
    assert.ok(existsSync(path.join(otherDir, 'hook.curl')));
    await daemon.client.call(sessionEndpoints.remove, { params: { id: other.id } });
    assert.equal(existsSync(path.dirname(otherFile)), false, 'the images of a removed session are removed');
    await waitFor('its settings, hook forwarder and secret to go too', () => !existsSync(otherDir) || undefined);
  });
});

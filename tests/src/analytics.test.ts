import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyticsEndpoints, type ImportStatus, type ToolReport, type UsageReport, type UsageTotals } from '@codepiper/analytics-contract';
import { ApiError } from '@codepiper/sdk';
import { eventEndpoints } from '@codepiper/events-contract';
import { policyEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, type ClaudeHome } from './agents/claude.js';
import { codexBin, codexKeyVar, prepareCodexHome, type CodexHome } from './agents/codex.js';
import { TestDaemon, tempHome, waitFor } from './harness.js';
import { FakeAnthropic, hasToolResult, isMainConversation, lastUserText } from './model-servers/anthropic.js';
import { FakeResponses, isStructured, lastIsFunctionCallOutput, lastUserText as lastCodexText, sessionIdOf } from './model-servers/openai-responses.js';

const MODEL = 'claude-sonnet-4-5';
/** The published list price of Claude Sonnet 4.5, USD per million tokens. */
const SONNET = { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 };

type Tokens = Pick<UsageTotals, 'responses' | 'input' | 'output' | 'cacheWrite5m' | 'cacheWrite1h' | 'cacheRead' | 'reasoning'>;

const tokensOf = (t: UsageTotals): Tokens => ({
  responses: t.responses,
  input: t.input,
  output: t.output,
  cacheWrite5m: t.cacheWrite5m,
  cacheWrite1h: t.cacheWrite1h,
  cacheRead: t.cacheRead,
  reasoning: t.reasoning,
});

async function json<T>(daemon: TestDaemon, args: string[]): Promise<T> {
  const result = await daemon.cli(args, { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `codepiper ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

describe('analytics with the real Claude Code against a fake Anthropic API', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let fresh: TestDaemon;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workdir: string;
  let emptyDir: string;
  let sessionId: string;

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-an-work-');
    emptyDir = mkdtempSync('/tmp/cpt-an-empty-');
    writeFileSync(path.join(workdir, 'notes.txt'), 'three words here\n');
    fake = await FakeAnthropic.start([
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('count the words'), reply: { text: 'the helper counted 3 words' } },
      {
        when: (r) => isMainConversation(r) && !hasToolResult(r) && lastUserText(r).includes('delegate'),
        reply: { toolUse: { name: 'Agent', input: { description: 'Count words', prompt: 'count the words in hello big world', subagent_type: 'general-purpose' } } },
      },
      { when: (r) => isMainConversation(r) && !hasToolResult(r) && lastUserText(r).includes('read the notes'), reply: () => ({ toolUse: { name: 'Read', input: { file_path: path.join(workdir, 'notes.txt') } } }) },
      { when: (r) => isMainConversation(r) && hasToolResult(r), reply: { text: 'done' } },
    ]);
    home = await prepareClaudeHome({ cwd: workdir, apiKey: 'sk-ant-analytics-tests-0123456789', baseUrl: fake.url });
    daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin });
    // Without a policy every tool call is a question to a person; these turns run unattended.
    for (const tool of ['Agent', 'Read']) await daemon.client.call(policyEndpoints.create, { body: { action: 'allow', tool, reason: 'analytics test' } });
    fresh = await TestDaemon.start();
  });
  after(async () => {
    if (sessionId) await daemon?.client.call(sessionEndpoints.kill, { params: { id: sessionId } }).catch(() => undefined);
    await daemon?.dispose();
    await fresh?.dispose();
    await fake?.close();
    rmSync(workdir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
    await removeClaudeHome(home);
  });

  /** What the model server reported, summed: every API response of the session, its subagent's included. */
  const reported = (): Tokens => {
    const t = fake.reportedUsage(isMainConversation);
    return {
      responses: t.replies,
      input: t.input_tokens,
      output: t.output_tokens,
      cacheWrite5m: t.ephemeral_5m_input_tokens,
      cacheWrite1h: t.ephemeral_1h_input_tokens,
      cacheRead: t.cache_read_input_tokens,
      reasoning: 0,
    };
  };
  const usage = (on: TestDaemon, by: string, extra: string[] = []) => json<UsageReport>(on, ['analytics', '--by', by, '--session', sessionId, '--json', ...extra]);
  const stops = async () => (await daemon.client.call(eventEndpoints.list, { query: { session: sessionId, type: 'claude.Stop' } })).events.length;
  const turn = async (prompt: string) => {
    const before = await stops();
    const sent = await daemon.cli(['send', sessionId, prompt]);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the turn to end', async () => (await stops()) > before, 90_000);
  };

  test('usage is recorded live, once per API response, subagent included, and equals what the model server reported', async () => {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: workdir, env: home.env, options: { model: MODEL, permissionMode: 'default' } } });
    sessionId = session.id;
    await waitFor('the session to be idle', async () => (await daemon.client.call(sessionEndpoints.show, { params: { id: sessionId } })).status === 'idle', 30_000);
    await turn('please delegate this');
    await turn('now read the notes');
    const subagentRequests = fake.messageRequests().filter((r) => lastUserText(r).includes('count the words'));
    assert.equal(subagentRequests.length, 1, 'the subagent called the model');
    // Claude may call the model again after a turn has ended (seen under load): compare once the server has had no
    // call for 2 s and the ledger agrees, then stop the session so that the later tests compare a closed history.
    let last = { calls: -1, since: Date.now() };
    let compared: [Tokens, Tokens] | undefined;
    await waitFor('the ledger to hold every response, with no call in flight', async () => {
      const server = reported();
      if (server.responses !== last.calls) last = { calls: server.responses, since: Date.now() };
      compared = [tokensOf((await usage(daemon, 'session')).total), server];
      return Date.now() - last.since >= 2_000 && JSON.stringify(compared[0]) === JSON.stringify(compared[1]);
    }, 30_000).catch(() => undefined);
    assert.deepEqual(compared?.[0], compared?.[1]);
    await daemon.client.call(sessionEndpoints.stop, { params: { id: sessionId } });
    const report = await usage(daemon, 'session');
    assert.deepEqual(tokensOf(report.total), reported(), 'nothing came after the stop');
    assert.equal(report.rows.length, 1, 'the subagent’s usage is in its parent session');
    assert.equal(report.rows[0]?.key, sessionId);
    assert.equal(report.rows[0]?.provider, 'claude-code');
    assert.equal(report.rows[0]?.project, workdir);
  });

  test('cost at the list price, cache hit rate, and the other groupings', async () => {
    const models = new Set(fake.messageRequests().filter(isMainConversation).map((r) => r.reply?.model));
    assert.deepEqual([...models], [MODEL]);
    const byModel = await usage(daemon, 'model');
    const t = reported();
    const cost = (t.input * SONNET.input + t.output * SONNET.output + t.cacheWrite5m * SONNET.cacheWrite5m + t.cacheWrite1h * SONNET.cacheWrite1h + t.cacheRead * SONNET.cacheRead) / 1e6;
    assert.equal(byModel.rows[0]?.key, MODEL);
    assert.ok(Math.abs((byModel.total.cost ?? NaN) - cost) < 1e-9, `cost ${byModel.total.cost} expected ${cost}`);
    assert.deepEqual(byModel.total.unpricedModels, []);
    assert.ok(Math.abs((byModel.total.cacheHitRate ?? NaN) - t.cacheRead / (t.input + t.cacheWrite5m + t.cacheWrite1h + t.cacheRead)) < 1e-12);
    for (const by of ['day', 'project', 'provider']) assert.deepEqual(tokensOf((await usage(daemon, by)).total), t, `by ${by}`);
    const day = new Date().toISOString().slice(0, 10);
    assert.deepEqual((await usage(daemon, 'day')).rows.map((r) => r.key), [day]);
    assert.equal((await usage(daemon, 'day', ['--since', '2999-01-01'])).rows.length, 0, 'nothing after --since');
    assert.deepEqual(tokensOf((await usage(daemon, 'day', ['--until', day])).total), t, '--until DATE includes that day');

    const tools = await json<ToolReport>(daemon, ['analytics', '--by', 'tool', '--session', sessionId.slice(0, 8), '--json']);
    assert.deepEqual(tools.rows.map((r) => [r.tool, r.calls]).sort(), [['Agent', 1], ['Read', 1]]);

    const table = await daemon.cli(['analytics', '--by', 'model']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /MODEL\s+RESPONSES\s+INPUT\s+OUTPUT\s+CACHE WRITE 5M\s+CACHE WRITE 1H\s+CACHE READ\s+CACHE HIT\s+COST/);
    assert.match(table.stdout, new RegExp(`${MODEL}\\s+${t.responses}\\s+${t.input.toLocaleString('en-US')}`));
    assert.match(table.stdout, new RegExp(`\\$${cost.toFixed(4).replace('.', '\\.')}`));
    const csv = await daemon.cli(['analytics', '--by', 'session', '--csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const [header, row] = csv.stdout.trim().split('\n');
    assert.equal(header, 'session,provider,project,responses,input,output,cache_write_5m,cache_write_1h,cache_read,reasoning,cache_hit_rate,cost_usd,unpriced_models');
    assert.ok(row?.startsWith(`${sessionId},claude-code,${workdir},${t.responses},${t.input},${t.output},`), row);
  });

  test('importing the same transcripts into another daemon gives the same totals; importing twice changes nothing', async () => {
    await daemon.client.call(sessionEndpoints.stop, { params: { id: sessionId } });
    const dir = path.join(home.configDir, 'projects');
    const first = await json<ImportStatus>(fresh, ['analytics', 'import', '--claude-dir', dir, '--codex-dir', emptyDir, '--json']);
    assert.equal(first.state, 'done');
    assert.equal(first.added.usage, reported().responses);
    assert.equal(first.files.total, 2, 'the session’s transcript and its subagent’s');
    assert.deepEqual(tokensOf((await usage(fresh, 'session')).total), reported());
    assert.equal((await usage(fresh, 'session')).rows[0]?.key, sessionId, 'Claude’s session id names the session');

    const again = await json<ImportStatus>(fresh, ['analytics', 'import', '--claude-dir', dir, '--codex-dir', emptyDir, '--json']);
    assert.deepEqual(again.added, { usage: 0, toolCalls: 0 });
    assert.equal(again.bytes.skipped, again.bytes.total, 'files already read are not read again');
    assert.deepEqual(tokensOf((await usage(fresh, 'session')).total), reported());

    // The daemon that followed the session live gets nothing new from its files either.
    const live = await json<ImportStatus>(daemon, ['analytics', 'import', '--claude-dir', dir, '--codex-dir', emptyDir, '--json']);
    assert.deepEqual(live.added, { usage: 0, toolCalls: 0 });
    assert.deepEqual(tokensOf((await usage(daemon, 'session')).total), reported());

    const plain = await fresh.cli(['analytics', 'import', '--claude-dir', dir, '--codex-dir', emptyDir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /claude-code: .* \(2 files\)\ncodex: .* \(0 files\)\nadded 0 responses and 0 tool calls/);

    // A directory the user names must be there: a typo is an error, not an empty import.
    const typo = await fresh.cli(['analytics', 'import', '--claude-dir', dir, '--codex-dir', path.join(emptyDir, 'nothing-here')]);
    assert.equal(typo.code, 1);
    assert.equal(typo.stderr, `codepiper: no such directory: ${path.join(emptyDir, 'nothing-here')} (codex)\n`);
    assert.equal(typo.stdout, '');
  });

  test('bad input: clear errors, exit code 2 from the CLI, 4xx with a JSON body from the API', async () => {
    const cases: [string[], RegExp][] = [
      [['analytics', '--by', 'week'], /--by must be one of session, model, day, project, provider, tool; got "week"/],
      [['analytics', '--since', '2026-13-45'], /--since expects a time .* got "2026-13-45"/],
      [['analytics', '--since', '2026-02-01', '--until', '2026-01-01'], /--since \(2026-02-01\) must be before --until \(2026-01-01\)/],
      [['analytics', '--json', '--csv'], /give --json or --csv, not both/],
      [['analytics', 'import', '--by', 'day'], /--by is for reports, not for import/],
      [['analytics', 'export'], /unknown analytics action "export"/],
    ];
    for (const [args, message] of cases) {
      const result = await daemon.cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const missing = await daemon.cli(['analytics', '--session', 'ffffffff']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no session matches id "ffffffff"/);

    const refused = async (call: Promise<unknown>): Promise<ApiError> => {
      const error = await call.then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof ApiError, String(error));
      return error;
    };
    const badBy = await refused(daemon.client.call(analyticsEndpoints.usage, { query: { by: 'week' as 'day' } }));
    assert.equal(badBy.status, 400);
    assert.match(badBy.message, /by/);
    const range = await refused(daemon.client.call(analyticsEndpoints.usage, { query: { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' } }));
    assert.equal(range.status, 400);
    assert.match(range.message, /since .* must be before until/);
    const relative = await refused(daemon.client.call(analyticsEndpoints.startImport, { body: { dirs: { 'claude-code': 'relative/dir' } } }));
    assert.equal(relative.status, 400);
    assert.match(relative.message, /must be absolute: claude-code: relative\/dir/);
    const unknown = await refused(daemon.client.call(analyticsEndpoints.startImport, { body: { dirs: { gemini: '/tmp' } } }));
    assert.match(unknown.message, /no history importer for "gemini"; known: claude-code, codex/);
  });
});

describe('analytics with the real Codex CLI against a fake Responses API', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let fresh: TestDaemon;
  let fake: FakeResponses;
  let codex: CodexHome;
  let workdir: string;
  let emptyDir: string;
  let sessionId: string;
  let threadId: string;
  /** A price for the fake model, from config.yaml. */
  const PRICE = { input: 2, output: 8, cache_write_5m: 2, cache_write_1h: 2, cache_read: 0.5 };

  before(async () => {
    fake = await FakeResponses.start([
      { when: (r) => lastCodexText(r) === 'say hello', reply: { text: 'Hello from the fake model' } },
      { when: (r) => lastCodexText(r) === 'list the files' && !lastIsFunctionCallOutput(r), reply: { text: 'Listing them', shell: { command: ['ls'] } } },
      { when: (r) => lastCodexText(r) === 'list the files', reply: { text: 'There is one file' } },
    ]);
    workdir = mkdtempSync('/tmp/cpt-an-codex-work-');
    emptyDir = mkdtempSync('/tmp/cpt-an-empty-');
    codex = await prepareCodexHome({ baseUrl: fake.url, trustedDirs: [workdir] });
    daemon = new TestDaemon(tempHome(), { CODEPIPER_CODEX_BIN: codexBin, [codexKeyVar]: codex.env[codexKeyVar]! });
    writeFileSync(path.join(daemon.home, 'config.yaml'), `analytics:\n  prices:\n    fake-model: ${JSON.stringify(PRICE)}\n`);
    await daemon.start();
    await daemon.client.call(policyEndpoints.create, { body: { action: 'allow', rule: 'Bash(ls)', name: 'ls' } });
    fresh = await TestDaemon.start();
  });
  after(async () => {
    if (sessionId) await daemon?.client.call(sessionEndpoints.kill, { params: { id: sessionId } }).catch(() => undefined);
    await daemon?.dispose();
    await fresh?.dispose();
    await fake?.close();
    rmSync(workdir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
    rmSync(codex.codexHome, { recursive: true, force: true });
  });

  /** What the server reported for the session's own thread (not Codex's title request), in the ledger's terms: cached input is read from the cache. */
  const reported = (): Tokens => {
    const t = fake.reportedUsage((r) => sessionIdOf(r) === threadId && !isStructured(r));
    return { responses: t.replies, input: t.input_tokens - t.cached_input_tokens, output: t.output_tokens, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: t.cached_input_tokens, reasoning: t.reasoning_output_tokens };
  };
  const usage = (on: TestDaemon, session: string, by = 'session') => json<UsageReport>(on, ['analytics', '--by', by, '--session', session, '--json']);
  const turns = async () => (await daemon.client.call(eventEndpoints.list, { query: { session: sessionId, type: 'codex.task_complete' } })).events.length;

  test('usage from the rollout equals what the server reported: cumulative counters counted once, cached input read from the cache', async () => {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'codex', cwd: workdir, env: codex.env, options: { model: 'fake-model' } } });
    sessionId = session.id;
    threadId = await waitFor('the Codex session id', async () => (await daemon.client.call(sessionEndpoints.show, { params: { id: sessionId } })).metadata.codexSessionId as string | undefined, 30_000);
    for (const [i, prompt] of ['say hello', 'list the files'].entries()) {
      const sent = await daemon.cli(['send', sessionId, prompt]);
      assert.equal(sent.code, 0, sent.stderr);
      await waitFor(`turn ${i + 1} to complete`, async () => (await turns()) > i, 60_000);
    }
    await waitFor('the ledger to hold every response', async () => JSON.stringify(tokensOf((await usage(daemon, sessionId)).total)) === JSON.stringify(reported()), 20_000).catch(() => undefined);
    const report = await usage(daemon, sessionId);
    assert.equal(reported().responses, 3);
    assert.ok(reported().cacheRead > 0);
    assert.deepEqual(tokensOf(report.total), reported());
    assert.equal(report.rows[0]?.key, sessionId);
    assert.equal(report.rows[0]?.project, workdir);
    const t = reported();
    const cost = (t.input * PRICE.input + t.output * PRICE.output + t.cacheRead * PRICE.cache_read) / 1e6;
    assert.ok(Math.abs((report.total.cost ?? NaN) - cost) < 1e-9, `cost ${report.total.cost}, expected ${cost} from the price in config.yaml`);
    const tools = await json<ToolReport>(daemon, ['analytics', '--by', 'tool', '--session', sessionId, '--json']);
    assert.deepEqual(tools.rows.map((r) => [r.tool, r.calls]), [['exec_command', 1]]);
  });

  test('importing the rollouts elsewhere gives the same totals, unpriced without the override; importing twice changes nothing', async () => {
    await daemon.client.call(sessionEndpoints.stop, { params: { id: sessionId } });
    const dir = path.join(codex.codexHome, 'sessions');
    const first = await json<ImportStatus>(fresh, ['analytics', 'import', '--claude-dir', emptyDir, '--codex-dir', dir, '--json']);
    assert.equal(first.state, 'done');
    const report = await usage(fresh, threadId);
    assert.deepEqual(tokensOf(report.total), reported());
    assert.equal(report.total.cost, null);
    assert.deepEqual(report.total.unpricedModels, ['fake-model']);
    const table = await fresh.cli(['analytics', '--session', threadId]);
    assert.match(table.stdout, /unpriced/);
    assert.match(table.stdout, /No price for fake-model/);

    const again = await json<ImportStatus>(fresh, ['analytics', 'import', '--claude-dir', emptyDir, '--codex-dir', dir, '--json']);
    assert.deepEqual(again.added, { usage: 0, toolCalls: 0 });
    const live = await json<ImportStatus>(daemon, ['analytics', 'import', '--claude-dir', emptyDir, '--codex-dir', dir, '--json']);
    assert.equal(live.state, 'done');
    assert.deepEqual(tokensOf((await usage(daemon, sessionId)).total), reported(), 'the live ledger already had every response of the session');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { approvalEndpoints, type Approval } from '@codepiper/policies-contract';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, type ClaudeHome } from './agents/claude.js';
import { TestDaemon, waitFor } from './harness.js';
import { FakeAnthropic, isMainConversation, lastUserText } from './model-servers/anthropic.js';

const KEY = 'sk-ant-helper-key-for-trust-tests-0123456789';
/** Claude Code 2.1.328's trust question (its other choice, selected first, is "No, exit"). */
const TRUST_QUESTION = /Yes, I trust this folder/;

describe('claude-code: Claude Code\'s folder-trust question, with the real Claude Code', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  const dirs: string[] = [];

  before(async () => {
    fake = await FakeAnthropic.start([{ when: (r) => isMainConversation(r) && lastUserText(r).includes('say hello'), reply: { text: 'hello from the fake model' } }]);
    const unused = mkdtempSync('/tmp/cpt-trust-home-');
    dirs.push(unused);
    home = await prepareClaudeHome({ cwd: unused, apiKey: KEY, baseUrl: fake.url, trusted: false });
    daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin });
  });
  after(async () => {
    for (const s of await daemon?.client.call(sessionEndpoints.list, { query: {} }).then((r) => r.sessions).catch(() => [] as SessionRecord[]) ?? []) {
      await daemon.client.call(sessionEndpoints.kill, { params: { id: s.id } }).catch(() => undefined);
    }
    await daemon?.dispose();
    await fake?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await removeClaudeHome(home);
  });

  /** A folder Claude has never seen. */
  const newFolder = () => {
    const dir = mkdtempSync('/tmp/cpt-trust-work-');
    dirs.push(dir);
    return dir;
  };
  const envFlags = () => Object.entries(home.env).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
  const prompted = (text: string) => fake.messageRequests().some((r) => isMainConversation(r) && lastUserText(r).includes(text));
  const trustedFolders = () => (JSON.parse(readFileSync(`${home.configDir}/.claude.json`, 'utf8')) as { projects?: Record<string, { hasTrustDialogAccepted?: boolean }> }).projects ?? {};
  const sessionIn = async (dir: string) => waitFor(`the session in ${dir}`, async () => (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.cwd === dir));
  const trustApproval = (id: string): Promise<Approval> =>
    waitFor('the trust question as a pending approval', async () =>
      (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.sessionId === id && a.tool === 'trust_folder'),
    60_000);
  const statusDetails = async (id: string) =>
    (await daemon.client.call(eventEndpoints.list, { query: { session: id, type: 'session.status', limit: 1000 } })).events.map((e) => e.payload as { to: string; detail: string | null });

  test('start --prompt in an untrusted folder without --trust: nothing is typed into the question, the start fails saying how to trust', async () => {
    const dir = newFolder();
    const result = await daemon.cli(['start', '-p', 'claude-code', '-d', dir, ...envFlags(), '--prompt', 'say hello untrusted'], { timeoutMs: 90_000 });
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /trust/);
    assert.match(result.stderr, /--trust/);
    assert.ok(result.stderr.includes(dir), result.stderr);

    const session = await sessionIn(dir);
    const statuses = await statusDetails(session.id);
    assert.ok(statuses.some((s) => s.to === 'waiting' && s.detail === `trust: ${dir}`), JSON.stringify(statuses));
    // The start was refused and the session removed by CodePiper; Claude did not exit 1 on a "No, exit".
    const ended = await waitFor('the refused session to end', async () => {
      const s = await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
      return s.status === 'exited' || s.status === 'crashed' ? s : undefined;
    });
    assert.notEqual(ended.exitCode, 1, JSON.stringify(ended));
    assert.equal(prompted('say hello untrusted'), false);
    assert.notEqual(trustedFolders()[dir]?.hasTrustDialogAccepted, true);
  });

  test('without --trust and without a prompt, the session waits on the question until a person answers it in the terminal', async () => {
    const dir = newFolder();
    const started = await daemon.cli(['start', '-p', 'claude-code', '-d', dir, ...envFlags(), '--json'], { timeoutMs: 60_000 });
    assert.equal(started.code, 0, started.stderr);
    const id = (JSON.parse(started.stdout) as SessionRecord).id;
    const waiting = await waitFor('the session to wait on the trust question', async () => {
      const s = await daemon.client.call(sessionEndpoints.show, { params: { id } });
      return s.status === 'waiting' ? s : undefined;
    }, 60_000);
    assert.equal(waiting.statusDetail, `trust: ${dir}`);
    const question = await trustApproval(id);
    assert.deepEqual(question.input, { path: dir });

    const refused = await daemon.cli(['send', id.slice(0, 8), 'say hello too early'], { timeoutMs: 60_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--trust/);
    const screen = (await daemon.client.call(sessionEndpoints.screen, { params: { id } })).text;
    assert.match(screen, TRUST_QUESTION);
    assert.doesNotMatch(screen, /say hello too early/);

    // A person picks "Yes" in the terminal: Claude starts, and input goes through.
    assert.equal((await daemon.cli(['keys', id.slice(0, 8), 'down'])).code, 0);
    await waitFor('"Yes" to be selected', async () => /❯\s*Yes, I trust this folder/.test((await daemon.client.call(sessionEndpoints.screen, { params: { id } })).text) || undefined);
    assert.equal((await daemon.cli(['keys', id.slice(0, 8), 'enter'])).code, 0);
    const sent = await daemon.cli(['send', id.slice(0, 8), 'say hello after a person trusted it'], { timeoutMs: 90_000 });
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the prompt to reach the model', () => prompted('say hello after a person trusted it') || undefined, 60_000);
    const answered = (await daemon.client.call(approvalEndpoints.list, { query: { all: true } })).approvals.find((a) => a.id === question.id);
    assert.deepEqual([answered?.status, answered?.answeredBy], ['approved', 'terminal']);
    await daemon.client.call(sessionEndpoints.kill, { params: { id } });
  });

  /** What a failed send leaves to go on: the session's screen and its last events. */
  const whatClaudeShows = async (id: string): Promise<string> => {
    const screen = (await daemon.client.call(sessionEndpoints.screen, { params: { id } })).text;
    const last = (await daemon.client.call(eventEndpoints.list, { query: { session: id, limit: 30, newest: true } })).events.reverse();
    return `the screen:\n${screen}\nthe last events: ${last.map((e) => e.type).join(' ')}`;
  };

  test('the trust question is a pending approval: approved from the CLI, Claude trusts the folder and starts; denied, Claude exits', async () => {
    const yes = newFolder();
    const started = await daemon.cli(['start', '-p', 'claude-code', '-d', yes, ...envFlags(), '--json'], { timeoutMs: 60_000 });
    assert.equal(started.code, 0, started.stderr);
    const id = (JSON.parse(started.stdout) as SessionRecord).id;
    const approved = await daemon.cli(['approve', (await trustApproval(id)).id.slice(0, 8)]);
    assert.equal(approved.code, 0, approved.stderr);
    await waitFor('Claude to start', async () => (await daemon.client.call(sessionEndpoints.show, { params: { id } })).status === 'idle' || undefined, 60_000);
    assert.equal(trustedFolders()[yes]?.hasTrustDialogAccepted, true);
    const sent = await daemon.cli(['send', id.slice(0, 8), 'say hello once trusted from afar'], { timeoutMs: 90_000 });
    // Failed once in a stressed full run (the prompt neither confirmed nor on the screen): what Claude showed says why.
    if (sent.code !== 0) assert.fail(`${sent.stderr}${await whatClaudeShows(id)}`);
    await waitFor('the prompt to reach the model', () => prompted('say hello once trusted from afar') || undefined, 60_000);
    await daemon.client.call(sessionEndpoints.kill, { params: { id } });

    const no = newFolder();
    const other = JSON.parse((await daemon.cli(['start', '-p', 'claude-code', '-d', no, ...envFlags(), '--json'], { timeoutMs: 60_000 })).stdout) as SessionRecord;
    const denied = await daemon.cli(['deny', (await trustApproval(other.id)).id.slice(0, 8)]);
    assert.equal(denied.code, 0, denied.stderr);
    const ended = await waitFor('Claude to exit', async () => {
      const s = await daemon.client.call(sessionEndpoints.show, { params: { id: other.id } });
      return s.status === 'exited' || s.status === 'crashed' ? s : undefined;
    }, 60_000);
    assert.equal(ended.status, 'exited', JSON.stringify(ended));
    assert.notEqual(trustedFolders()[no]?.hasTrustDialogAccepted, true);
  });

  test('start --trust --prompt in a folder Claude has never seen: the question is answered yes, then the prompt is submitted', async () => {
    const dir = newFolder();
    const result = await daemon.cli(['start', '-p', 'claude-code', '-d', dir, ...envFlags(), '--trust', '--prompt', 'say hello trusted', '--json'], { timeoutMs: 90_000 });
    assert.equal(result.code, 0, result.stderr);
    const session = JSON.parse(result.stdout) as SessionRecord;
    await waitFor('the prompt to reach the model', () => prompted('say hello trusted') || undefined, 60_000);
    const submitted = await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'claude.UserPromptSubmit', limit: 10 } });
    assert.equal(submitted.events.length, 1);
    // Claude records the answer itself.
    assert.equal(trustedFolders()[dir]?.hasTrustDialogAccepted, true);
    const s = await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
    assert.ok(s.status !== 'exited' && s.status !== 'crashed', s.status);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
  });

  test('start --help shows --trust', async () => {
    const help = await daemon.cli(['start', '--help']);
    assert.match(help.stdout, /--trust/);
  });
});

/**
 * Claude Code on a host: the real claude, as another user behind a real
 * sshd, against the local model server; its hooks reach the daemon through
 * the agents' socket forwarded over the host's connection, its transcript is
 * copied back over the same connection.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyticsEndpoints } from '@codepiper/analytics-contract';
import { approvalEndpoints } from '@codepiper/policies-contract';
import { auditEndpoints } from '@codepiper/audit-contract';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { FORWARDER_DIGEST } from '@codepiper/sessions-contract/agent-hooks';
import { databasePath } from '@codepiper/sdk';
import { claudeBin, prepareClaudeHome, type ClaudeHome } from './agents/claude.js';
import { suiteDaemon, waitFor } from './harness.js';
import { FakeAnthropic, hasToolResult, isMainConversation, lastUserText, toolResultText } from './model-servers/anthropic.js';
import { remoteHome, SshServer, sshdUnavailable } from './sshd.js';

/** Its own user: hosts.test cuts its user's connections while this file runs beside it. */
const USER = 'codepiper-agent';

/** Runs `command` on the host as its user would: a shell of that user's. */
const asUser = (command: string) => spawnSync('su', [USER, '-c', command], { encoding: 'utf8' });

/**
 * The pinned claude as that user can run it: the package's binary where it
 * is (when the checkout is readable by others), else a copy in that user's
 * home, as an install there would put it.
 */
function claudeOnHost(home: string): string {
  const binary = realpathSync(path.join(path.dirname(claudeBin), '..', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe'));
  if (asUser(`test -x '${binary}'`).status === 0) return binary;
  const copy = path.join(home, '.local', 'bin', 'claude');
  mkdirSync(path.dirname(copy), { recursive: true });
  execFileSync('cp', [binary, copy]);
  execFileSync('chown', ['-R', `${USER}:`, path.join(home, '.local')]);
  return copy;
}

describe('Claude Code on a host: hooks through the forwarded agents’ socket, the transcript copied back (real sshd, real claude)', { skip: sshdUnavailable() }, () => {
  const suite = suiteDaemon();
  let sshd: SshServer;
  let fake: FakeAnthropic;
  let claude: ClaudeHome;
  let home: string;
  let project: string;
  let bin: string;
  let session: SessionRecord;
  const cli = (args: string[]) => suite.daemon.cli(args);
  const show = () => suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
  const events = async (type: string) => (await suite.daemon.client.call(eventEndpoints.list, { query: { session: session.id, type, limit: 10000 } })).events;
  const toolResults = () => fake.messageRequests().filter((r) => isMainConversation(r) && hasToolResult(r)).map((r) => toolResultText(r)?.text ?? '');
  /** What a failing wait shows: the session's events and screen, whether the host's socket answers, the daemon's log. */
  const diagnosis = async (): Promise<string> => {
    const all = (await suite.daemon.client.call(eventEndpoints.list, { query: { session: session.id, limit: 40, newest: true } })).events.reverse();
    const socket = asUser(`curl -s --unix-socket ${home}/.codepiper/agents.sock http://x/sessions`).stdout;
    const screen = (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
    return [`status ${(await show()).status}`, `the last events ${all.map((e) => `${e.type}${e.type === 'claude.UserPromptSubmit' ? JSON.stringify((e.payload as { prompt?: string }).prompt) : ''}`).join(' ')}`, `the host's socket: ${socket}`, screen, suite.daemon.output.slice(-3000)].join('\n');
  };
  /** A wait that, failing, says what the session and the host looked like. */
  const explained = <T>(wait: Promise<T>): Promise<T> =>
    wait.catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await diagnosis()}`);
    });
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));

  before(async () => {
    sshd = await SshServer.start(USER);
    home = remoteHome(USER);
    bin = claudeOnHost(home);
    project = path.join(home, 'project');
    rmSync(project, { recursive: true, force: true });
    mkdirSync(project, { recursive: true });
    fake = await FakeAnthropic.start([
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('count the words'), reply: { text: 'the helper counted 3 words' } },
      {
        when: (r) => isMainConversation(r) && !hasToolResult(r) && lastUserText(r).includes('delegate'),
        reply: { toolUse: { name: 'Agent', input: { description: 'Count words', prompt: 'count the words in hello big world', subagent_type: 'general-purpose' } } },
      },
      { when: (r) => isMainConversation(r) && hasToolResult(r), reply: (r) => ({ text: `tool said: ${toolResultText(r)?.text ?? ''}`.slice(0, 200) }) },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remove the victim'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f victim.txt', description: 'Remove victim.txt' } } } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('write the note'), reply: { toolUse: { name: 'Bash', input: { command: 'echo from-the-host > note.txt', description: 'Write note.txt' } } } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('take your time'), reply: { text: 'done waiting', heldUntil: held } },
    ]);
    claude = await prepareClaudeHome({ cwd: project, apiKey: 'sk-ant-remote-test-key-0123456789', baseUrl: fake.url, configDir: path.join(home, 'claude-config') });
    writeFileSync(path.join(project, 'victim.txt'), 'still here');
    execFileSync('chown', ['-R', `${USER}:`, project, claude.configDir]);

    const knownHosts = path.join(suite.daemon.userHome, '.ssh', 'known_hosts');
    mkdirSync(path.dirname(knownHosts), { recursive: true, mode: 0o700 });
    writeFileSync(knownHosts, sshd.knownHostsLine);
    const added = await cli(['host', 'add', 'box', sshd.destination, '--port', String(sshd.port), '--identity', sshd.identity]);
    assert.equal(added.code, 0, added.stderr);
    for (const args of [
      ['--action', 'deny', '--tool', 'Bash', '--args', '{"command":"rm *"}', '--reason', 'No deletes on the box'],
      ['--action', 'ask', '--rule', 'Bash(echo *)', '--name', 'ask-echo', '--reason', 'a person decides'],
      ['--action', 'allow', '--tool', 'Agent', '--reason', 'helpers may run'],
    ]) {
      const created = await cli(['policy', 'create', ...args]);
      assert.equal(created.code, 0, created.stderr);
    }
  });
  after(async () => {
    releaseHeld();
    if (session) await suite.daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } }).catch(() => undefined);
    await sshd?.stop();
    await fake?.close();
    asUser('tmux -L codepiper kill-server');
    rmSync(project ?? '/nonexistent', { recursive: true, force: true });
    if (claude) rmSync(claude.configDir, { recursive: true, force: true });
  });

  test('Claude starts on the host in Claude’s own permission mode; its SessionStart reaches the daemon, and the host has only the agents’ socket', async () => {
    session = await suite.daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'claude-code', host: 'box', cwd: project, name: 'far-claude', env: claude.env, options: { claude_bin: bin, permissionMode: 'default' } },
    });
    await waitFor('Claude on the host to be idle (its SessionStart hook came through)', async () => (await show()).status === 'idle', 90_000);
    assert.equal((await events('claude.SessionStart')).length, 1);
    const hookFiles = path.join(home, '.codepiper', 'provider-claude-code', session.id);
    assert.equal(statSync(path.join(hookFiles, 'hook.curl')).mode & 0o777, 0o600, 'the hook secret is for that user only, on the host');
    assert.match((await cli(['ls'])).stdout, /far-claude +claude-code +idle +\S+ +box:\S+project/);

    const socket = path.join(home, '.codepiper', 'agents.sock');
    const info = statSync(socket);
    assert.ok(info.isSocket() && (info.mode & 0o077) === 0, 'the forwarded socket is that user’s only');
    // A program on the host (the agent itself, or anyone as that user) reaches hooks, never the daemon's control.
    const curl = (args: string) => asUser(`curl -s --unix-socket '${socket}' ${args}`);
    for (const [args, what] of [
      ['http://x/sessions', 'the session list'],
      [`-X POST -H 'content-type: application/json' -d '{"provider":"shell","cwd":"/tmp","args":["touch","/tmp/pwned-by-host"]}' http://x/sessions`, 'a start'],
      [`-X POST -H 'content-type: application/json' -d '{"action":"allow","tool":"Bash"}' http://x/policies`, 'a policy'],
      ['http://x/openapi.json', 'the API description'],
    ]) {
      const answer = JSON.parse(curl(args!).stdout) as { error?: { code: string } };
      assert.equal(answer.error?.code, 'not_found', `${what} is not served there`);
    }
    assert.ok(!existsSync('/tmp/pwned-by-host'));
    const forged = JSON.parse(curl(`-X POST -H 'authorization: Bearer 00' -H 'content-type: application/json' -d '{"hook_event_name":"Stop"}' http://x/hooks/claude-code/${session.id}`).stdout) as { error?: { code: string } };
    assert.equal(forged.error?.code, 'unauthorized', 'a hook needs its session’s secret');
  });

  test('policies govern Claude on the host: a denied rm does not run there; an ask becomes an approval, and approving it runs the command there', async () => {
    const sent = await cli(['send', session.id, 'please remove the victim file']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the denial sent to the model', () => toolResults().some((t) => t.includes('No deletes on the box')), 60_000);
    assert.equal(readFileSync(path.join(project, 'victim.txt'), 'utf8'), 'still here');
    const { entries } = await suite.daemon.client.call(auditEndpoints.list, { query: { session: session.id, decision: 'deny' } });
    assert.deepEqual(entries.map((e) => [e.tool, (e.input as { command: string }).command]), [['Bash', 'rm -f victim.txt']]);

    await explained(waitFor('the turn to end', async () => (await show()).status === 'idle', 60_000));
    assert.equal((await cli(['send', session.id, 'please write the note'])).code, 0);
    const approval = await waitFor('a pending approval', async () => (await suite.daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.policyName === 'ask-echo'), 60_000);
    assert.ok(!existsSync(path.join(project, 'note.txt')), 'nothing runs while the approval is pending');
    const approved = await cli(['approve', approval.id.slice(0, 8)]);
    assert.equal(approved.code, 0, approved.stderr);
    const note = path.join(project, 'note.txt');
    // The shell creates the file a moment before echo writes to it.
    await waitFor('the note written on the host', () => existsSync(note) && readFileSync(note, 'utf8').endsWith('\n'), 30_000);
    assert.equal(readFileSync(note, 'utf8'), 'from-the-host\n');
    assert.equal(statSync(note).uid, Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()), 'written by Claude, as the host’s user');
  });

  test('the host drops mid-turn (every connection killed, sshd stopped): the session is unreachable, Claude ends its turn there, and once back that turn is taken in with each event and token counted once', async () => {
    await explained(waitFor('the turn to end', async () => (await show()).status === 'idle', 60_000));
    const stopsBefore = (await events('claude.Stop')).length;
    assert.equal((await cli(['send', session.id, 'please take your time'])).code, 0);
    await waitFor('the model to be asked', () => fake.messageRequests().some((r) => isMainConversation(r) && lastUserText(r).includes('take your time')), 60_000);

    await sshd.down();
    await waitFor('the session to be unreachable', async () => (await show()).status === 'unreachable', 60_000);
    assert.ok(asUser('tmux -L codepiper list-sessions').stdout.includes(`cp-${session.id}`), 'Claude goes on, on the host');
    // The model answers while the host is cut off: Claude ends its turn there, its Stop hook finds no daemon and is kept there.
    releaseHeld();
    await waitFor('Claude to end its turn on the host', () => asUser(`cat ${home}/.codepiper/provider-claude-code/${session.id}/offline.jsonl`).stdout.includes('"Stop"') || undefined, 60_000);
    await sshd.listen();
    await explained(waitFor('the session back, its turn taken in as ended', async () => (await show()).status === 'idle', 90_000));
    assert.equal((await events('claude.Stop')).length, stopsBefore + 1, 'the turn that ended while the host was away, counted once');
    const usage = async () => (await suite.daemon.client.call(analyticsEndpoints.usage, { query: { by: 'session', session: session.id } })).total;
    await waitFor('the transcript copy to catch up with the turn', async () => (await usage()).responses === fake.reportedUsage(isMainConversation).replies, 60_000);
    const [total, server] = [await usage(), fake.reportedUsage(isMainConversation)];
    assert.deepEqual([total.input, total.output, total.cacheRead], [server.input_tokens, server.output_tokens, server.cache_read_input_tokens], 'usage from the copied transcript equals what the model server reported, once');
    assert.equal((await events('claude.UserPromptSubmit')).filter((e) => JSON.stringify(e.payload).includes('take your time')).length, 1, 'the prompt counted once');
    assert.equal((await events('claude.Stop')).length, stopsBefore + 1, 'the turn counted once');

    // The hooks work again over the connection opened anew, and nothing is taken in twice.
    assert.equal((await cli(['send', session.id, 'please write the note'])).code, 0);
    await waitFor('a new approval', async () => (await suite.daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.some((a) => a.policyName === 'ask-echo'), 60_000);
  });

  test('a subagent on the host: its transcript is copied too, and its usage counted with its session’s', async () => {
    const approval = (await suite.daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.policyName === 'ask-echo');
    if (approval) await cli(['deny', approval.id.slice(0, 8)]);
    await explained(waitFor('the turn to end', async () => (await show()).status === 'idle', 60_000));
    const promptsBefore = (await events('claude.UserPromptSubmit')).at(-1)?.id ?? 0;
    assert.equal((await cli(['send', session.id, 'please delegate this'])).code, 0);
    // The helper runs in the background, and once it is done Claude takes a turn of its own for its task-notification,
    // whether the helper ended before the delegating turn did or after (both seen under load). Only after that turn has
    // the model server seen every request, and only then is the session idle for good: the next test stops the daemon.
    const notificationTurnEnded = async () => {
      const notification = (await events('claude.UserPromptSubmit')).find((e) => e.id > promptsBefore && String((e.payload as { prompt?: unknown }).prompt).startsWith('<task-notification>'));
      return notification !== undefined && (await events('claude.Stop')).some((stop) => stop.id > notification.id) && (await show()).status === 'idle';
    };
    await explained(waitFor('the helper’s task-notification turn to end', notificationTurnEnded, 90_000));
    assert.equal(fake.messageRequests().filter((r) => lastUserText(r).includes('count the words')).length, 1, 'the subagent called the model');
    const usage = async () => (await suite.daemon.client.call(analyticsEndpoints.usage, { query: { by: 'session', session: session.id } })).total;
    await waitFor('the ledger to hold every response, the subagent’s included', async () => (await usage()).responses === fake.reportedUsage(isMainConversation).replies, 60_000);
    const [total, server] = [await usage(), fake.reportedUsage(isMainConversation)];
    assert.deepEqual([total.input, total.output], [server.input_tokens, server.output_tokens]);
  });

  test('the daemon stops and starts again: Claude on the host is adopted, its forwarder there brought up to date, and its hooks reach the new daemon (the same connection forwards the socket)', async () => {
    await explained(waitFor('the turn to end', async () => (await show()).status === 'idle', 60_000));
    const forwarder = path.join(home, '.codepiper', 'provider-claude-code', session.id, 'hook.sh');
    const current = readFileSync(forwarder, 'utf8');
    await suite.daemon.stop();
    // As a version before this one wrote it (its temporary files left behind), and the session's record as that version kept it.
    writeFileSync(forwarder, current.replace(/^trap 'rm -f "\$in" "\$out"' EXIT\n/m, ''));
    const recorded = spawnSync('sqlite3', [databasePath(suite.daemon.home), `UPDATE sessions SET metadata = json_remove(metadata, '$.${FORWARDER_DIGEST}') WHERE id = '${session.id}'`], { encoding: 'utf8' });
    assert.equal(recorded.status, 0, recorded.stderr);
    await suite.daemon.start();
    const adopted = (await show()).status;
    if (adopted !== 'idle') assert.fail(`adopted ${adopted}, not as it was (idle)\n${await diagnosis()}`);
    await waitFor('the forwarder on the host brought up to date', () => readFileSync(forwarder, 'utf8') === current || undefined, 30_000);
    assert.equal((await cli(['send', session.id, 'please remove the victim file'])).code, 0);
    const rmDenials = async () => (await suite.daemon.client.call(auditEndpoints.list, { query: { session: session.id, decision: 'deny' } })).entries.filter((e) => (e.input as { command?: string }).command === 'rm -f victim.txt');
    await explained(waitFor('the second rm denied by the new daemon', async () => (await rmDenials()).length === 2, 90_000));
    await explained(waitFor('the turn to end', async () => (await show()).status === 'idle', 60_000));
    assert.equal(readFileSync(path.join(project, 'victim.txt'), 'utf8'), 'still here');
  });

  test('rm takes what the session kept on the host (its hook script and secret) and its copies here', async () => {
    const onHost = path.join(home, '.codepiper', 'provider-claude-code', session.id);
    const copies = path.join(suite.daemon.home, 'plugins', 'hosts', '_copies', session.id);
    assert.ok(existsSync(path.join(onHost, 'hook.curl')) && existsSync(copies), 'both there before');
    const stopped = await cli(['stop', session.id]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const removed = await cli(['rm', session.id]);
    assert.equal(removed.code, 0, removed.stderr);
    await waitFor('the files on the host and the copies here to go', () => (!existsSync(onHost) && !existsSync(copies)) || undefined, 30_000);
    assert.ok(existsSync(path.join(home, '.codepiper', 'agents.sock')), 'only the session’s own files: the host’s socket stays');
  });
});

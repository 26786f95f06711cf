import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import type { LocalControlRequest } from '@codepiper/sdk';
import { judgeControlRequest, parseParentPid, SESSION_MARKER, type SessionProcesses } from './control-guard.js';

const linux = process.platform === 'linux';

describe('the control-plane guard', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((child) => child.kill('SIGKILL')));

  /** A sleeping process: a child of this test, or, with `detached`, a grandchild whose parent exited (reparented away from this test). */
  const sleeper = async (env: Record<string, string> = {}, detached = false): Promise<number> => {
    const command = detached ? 'sleep 60 & echo $!' : 'echo $$; exec sleep 60';
    const child = spawn('sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const [line] = (await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())))).split('\n');
    const pid = Number(line);
    if (detached) {
      await exited;
      children.push({ kill: (signal: NodeJS.Signals) => process.kill(pid, signal) } as ChildProcess);
    }
    // `$!` is printed as soon as sh forks: until the child has become `sleep`, its /proc entries are
    // sh's, and mid-exec its environment reads empty (seen on a loaded machine).
    while ((await readFile(`/proc/${pid}/comm`, 'utf8')).trim() !== 'sleep') await new Promise((resolve) => setTimeout(resolve, 5));
    return pid;
  };
  const processes = (serverPid: number | undefined, panes: [number, string][] = []): SessionProcesses => ({
    serverPid: () => serverPid,
    panes: async () => new Map(panes),
    sessionName: async (id) => (id === 'id-1' ? 'web-shell' : undefined),
  });
  const request = (peerPids: number[]): LocalControlRequest => ({ method: 'POST', route: '/policies', peerPids });

  it('reads the parent pid after the last ")", whatever the command name holds', () => {
    assert.equal(parseParentPid('1234 (a b) c) (d) S 42 1234 1234 0 -1 4194560'), 42);
    assert.equal(parseParentPid('1 (systemd) S 0 1 1 0 -1'), 0);
    assert.throws(() => parseParentPid('garbage'));
  });

  it('lets through an empty list of pids (a platform that cannot tell) and a process outside every session', { skip: !linux }, async () => {
    assert.equal(await judgeControlRequest(request([]), processes(undefined)), undefined);
    assert.equal(await judgeControlRequest(request([process.pid, await sleeper()]), processes(1 << 22)), undefined);
  });

  it('refuses a descendant of the tmux server, naming the session of the pane it runs under', { skip: !linux }, async () => {
    const pid = await sleeper();
    // Stand-ins: this test as the tmux server, its child as a pane's program.
    const refusal = await judgeControlRequest(request([process.pid, pid]), processes(process.pid, [[pid, 'id-1']]));
    assert.equal(refusal?.code, 'inside_session');
    assert.match(refusal.message, new RegExp(`^POST /policies refused: .*pid ${pid} runs in session web-shell, id id-1.*run the command from a terminal outside CodePiper sessions$`));
    const unnamed = await judgeControlRequest(request([pid]), processes(process.pid));
    assert.match(unnamed?.message ?? '', /runs in CodePiper's tmux server/);
    const byPane = await judgeControlRequest(request([pid]), processes(undefined, [[pid, 'id-2']]));
    assert.match(byPane?.message ?? '', /runs in session id-2\b/);
  });

  it('refuses a process carrying the marker even outside the tree', { skip: !linux }, async () => {
    const pid = await sleeper({ [SESSION_MARKER]: 'id-1' }, true);
    const refusal = await judgeControlRequest(request([pid]), processes(process.pid));
    assert.equal(refusal?.code, 'inside_session');
    assert.match(refusal.message, new RegExp(`pid ${pid} was started in session web-shell, id id-1: its environment has ${SESSION_MARKER}`));
  });

  it('a vanished pid proves nothing; when all vanished, the sender is unknown', { skip: !linux }, async () => {
    const gone = 1 << 22;
    assert.equal(await judgeControlRequest(request([gone, process.pid]), processes(undefined)), undefined);
    const refusal = await judgeControlRequest(request([gone, gone + 1]), processes(undefined));
    assert.equal(refusal?.code, 'unknown_sender');
    assert.match(refusal.message, /exited before it could be checked/);
  });
});

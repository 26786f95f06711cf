import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostEndpoints } from '@codepiper/hosts-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { REMOTE_USER, SshServer, sshdUnavailable } from '@codepiper/tests/sshd';
import { daemonEcho, plainTmuxEcho } from './echo-latency.js';
import { PlainTmux } from './plain-tmux.js';
import { cpuSeconds, rssMegabytes } from './proc.js';
import { distribution, round, type Distribution } from './stats.js';

const HOSTS = 5;
const SESSIONS_PER_HOST = 20;
const WINDOW_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 15);

/** A daemon that knows `names` as hosts, all served by one real sshd on loopback. */
async function daemonWithHosts(sshd: SshServer, names: readonly string[]): Promise<TestDaemon> {
  const daemon = await TestDaemon.start();
  mkdirSync(path.join(daemon.userHome, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(daemon.userHome, '.ssh', 'known_hosts'), sshd.knownHostsLine);
  for (const name of names) await daemon.client.call(hostEndpoints.add, { body: { name, destination: sshd.destination, port: sshd.port, identity: sshd.identity } });
  return daemon;
}

async function withSshd<T>(run: (sshd: SshServer) => Promise<T>): Promise<T> {
  const unavailable = sshdUnavailable();
  if (unavailable) throw new Error(`the remote benchmarks run a real sshd, which ${unavailable}`);
  const sshd = await SshServer.start();
  try {
    return await run(sshd);
  } finally {
    await sshd.stop();
    // The sessions' programs outlive the daemon there, by design: ended with the host's tmux server.
    spawnSync('su', [REMOTE_USER, '-c', 'tmux -L codepiper kill-server'], { stdio: 'ignore' });
  }
}

export interface RemoteEchoResult {
  codepiper: Distribution;
  sshTmux: Distribution;
  ratioP50: number;
}

/**
 * Keystroke → echo of `cat` on a host: through the daemon (its API, the
 * session's pane, ssh, the host's tmux), against typing into plain
 * `ssh host tmux` the way a tool without a daemon would (a send-keys process
 * per keystroke into a local terminal running ssh), on the same link.
 */
export function remoteEcho(): Promise<RemoteEchoResult> {
  return withSshd(async (sshd) => {
    const daemon = await daemonWithHosts(sshd, ['box']);
    const plain = new PlainTmux();
    try {
      const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', host: 'box', cwd: '/tmp', args: ['cat'] } });
      const { viaApi: viaDaemon } = await daemonEcho(daemon, session.id, { settleMs: 1000 });
      const ssh = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${path.join(daemon.userHome, '.ssh', 'known_hosts')}`, '-i', sshd.identity, '-p', String(sshd.port), '-tt', sshd.destination];
      const alone = await plainTmuxEcho(plain, [...ssh, 'tmux -L bench-plain -f /dev/null new-session -A -s plain cat'], 1500);
      const codepiper = distribution(viaDaemon);
      const sshTmux = distribution(alone);
      return { codepiper, sshTmux, ratioP50: round(codepiper.p50 / sshTmux.p50) };
    } finally {
      plain.dispose();
      await daemon.dispose();
    }
  });
}

export interface RemoteIdleResult {
  hosts: number;
  sessions: number;
  seconds: number;
  daemonCpuPercent: number;
  daemonRssMB: number;
}

/** The daemon's CPU and memory while 5 hosts × 20 sessions print nothing: nothing is polled. */
export function remoteIdle(): Promise<RemoteIdleResult> {
  return withSshd(async (sshd) => {
    const names = Array.from({ length: HOSTS }, (_, i) => `host-${i}`);
    const daemon = await daemonWithHosts(sshd, names);
    try {
      for (const host of names) {
        for (let i = 0; i < SESSIONS_PER_HOST; i++) await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', host, cwd: '/tmp', args: ['cat'], name: `${host}-${i}` } });
      }
      const pid = daemon.process!.pid!;
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const before = cpuSeconds(pid);
      await new Promise((resolve) => setTimeout(resolve, WINDOW_SECONDS * 1000));
      const used = cpuSeconds(pid) - before;
      return { hosts: HOSTS, sessions: HOSTS * SESSIONS_PER_HOST, seconds: WINDOW_SECONDS, daemonCpuPercent: round((used / WINDOW_SECONDS) * 100, 3), daemonRssMB: round(rssMegabytes(pid), 1) };
    } finally {
      await daemon.dispose();
    }
  });
}

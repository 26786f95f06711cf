import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './harness.js';
import type { NetworkNamespace } from './netns.js';

/** The account the remote side runs as: another user than the daemon's, as a real remote host would have. */
export const REMOTE_USER = 'codepiper-remote';

/** Why the SSH tests cannot run here, or undefined when they can: sshd serving another user needs root. */
export function sshdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root, to run sshd for a user of its own';
  try {
    execFileSync('/usr/sbin/sshd', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs OpenSSH’s server (apt-get install openssh-server)';
  }
  return undefined;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });

/**
 * Runs a command that changes /etc/passwd or /etc/shadow. Test files run side
 * by side, and shadow's tools refuse at once ("cannot lock /etc/passwd") while
 * another holds the lock: such a refusal is waited out, for a few seconds.
 */
function changeAccounts(command: string, args: string[], done = () => false): void {
  for (let attempt = 1; ; attempt++) {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    if (run.status === 0 || done()) return;
    if (attempt === 20 || !run.stderr.includes('cannot lock')) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr}`);
    spawnSync('sleep', ['0.25']);
  }
}

/** The remote user, made if missing, able to log in by key (a locked account cannot); resolves with its home. */
export function remoteHome(user = REMOTE_USER): string {
  const exists = () => spawnSync('id', ['-u', user], { stdio: 'ignore' }).status === 0;
  // Another file may be making the same user at this moment: its success is ours.
  if (!exists()) changeAccounts('useradd', ['--create-home', '--shell', '/bin/sh', user], exists);
  changeAccounts('usermod', ['-p', '*', user]);
  return execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5]!;
}

/**
 * A real OpenSSH server on a loopback port, for one user (`REMOTE_USER`
 * unless another is named: test files that run side by side and cut
 * connections each have their own), with a host key and a client key of its
 * own: what the daemon reaches as a remote host.
 */
export class SshServer {
  private log = '';
  private process: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly user: string,
    /** Where it listens: this machine's loopback, or its own network (`netns`). */
    private readonly netns: NetworkNamespace | undefined,
  ) {}

  private get address(): string {
    return this.netns?.address ?? '127.0.0.1';
  }

  /** The client's private key, authorized for `REMOTE_USER`. */
  get identity(): string {
    return path.join(this.dir, 'client_key');
  }

  get destination(): string {
    return `${this.user}@${this.address}`;
  }

  /** The known_hosts line of this server's key, as `ssh-keyscan` would print it. */
  get knownHostsLine(): string {
    const [type, key] = readFileSync(path.join(this.dir, 'host_key.pub'), 'utf8').trim().split(' ');
    return `[${this.address}]:${this.port} ${type} ${key}\n`;
  }

  static async start(user = REMOTE_USER, netns?: NetworkNamespace): Promise<SshServer> {
    const dir = mkdtempSync('/tmp/cpt-sshd-');
    const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'codepiper-test', '-f', path.join(dir, file)]);
    keygen('host_key');
    keygen('client_key');
    const home = remoteHome(user);
    const ssh = path.join(home, '.ssh');
    mkdirSync(ssh, { recursive: true });
    appendFileSync(path.join(ssh, 'authorized_keys'), readFileSync(path.join(dir, 'client_key.pub')));
    chmodSync(ssh, 0o700);
    chmodSync(path.join(ssh, 'authorized_keys'), 0o600);
    execFileSync('chown', ['-R', `${user}:`, ssh]);
    // sshd's privilege separation directory, which Debian's service would make.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    // The port is free when asked for, but a test file beside this one may take it before sshd binds: then another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = [
        `Port ${port}`,
        `ListenAddress ${netns?.address ?? '127.0.0.1'}`,
        `HostKey ${path.join(dir, 'host_key')}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        `AllowUsers ${user}`,
        'AllowStreamLocalForwarding yes',
      ].join('\n');
      writeFileSync(path.join(dir, 'sshd_config'), `${config}\n`);
      const server = new SshServer(dir, port, user, netns);
      try {
        await server.listen();
        return server;
      } catch (error) {
        if (attempt === 3 || !server.output.includes('Address already in use')) throw error;
      }
    }
  }

  /** Runs sshd with this server's config, resolving once it listens. */
  async listen(): Promise<void> {
    const sshd = ['/usr/sbin/sshd', '-D', '-e', '-f', path.join(this.dir, 'sshd_config')];
    const [program, ...args] = this.netns ? this.netns.inside(sshd) : sshd;
    const child = spawn(program!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    const from = this.log.length;
    child.stderr?.setEncoding('utf8').on('data', (data: string) => (this.log += data));
    await waitFor('sshd to listen', () => this.log.slice(from).includes('Server listening') || (child.exitCode !== null ? Promise.reject(new Error(`sshd exited: ${this.log}`)) : undefined), 20_000);
  }

  /** The host goes away: sshd stops listening, and every connection it had is cut (its children killed). */
  async down(): Promise<void> {
    await this.stopListening();
    spawnSync('pkill', ['-KILL', '-f', `sshd: ${this.user}`]);
  }

  /** What sshd logged: for a failing assertion to show. */
  get output(): string {
    return this.log;
  }

  /** Stops sshd and ends whatever its user still runs (a program a test left on the host, its tmux server): nothing outlives the test file. */
  async stop(): Promise<void> {
    await this.stopListening();
    spawnSync('pkill', ['-KILL', '-u', this.user]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async stopListening(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

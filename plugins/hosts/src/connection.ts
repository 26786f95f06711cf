import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { CodePiperError, raceTimeout } from '@codepiper/sdk';
import { controlConnection, controlSocket, describeSshFailure, forwardSocket, inSh, runSsh, shQuote, sshOptions, type SshPlaces, type SshResult, type SshTarget } from './ssh.js';

/** How long a connection may take to come up (ssh's own connect timeout, and authentication after it). */
const OPEN_TIMEOUT_MS = 20_000;

/** How the programs on a host reach the daemon: their user's home there, and the agents' socket forwarded into it. */
export interface AgentsReach {
  home: string;
  agentSocket: string;
}

/**
 * A host's one SSH connection: a master ssh the daemon runs (`-N`: no
 * command of its own), that every command to the host goes through, so
 * that none pays for a connection of its own.
 */
export class HostConnection {
  private master: ChildProcess | undefined;
  /** The connection is an earlier daemon's, taken over (see `start`). */
  private adopted = false;
  /** Closed or let go: it is not opened again (a command still under way when the daemon stops would leave a master behind). */
  private ended = false;
  private opening: Promise<void> | undefined;
  /** Set up each time the connection opens: the agents' socket forwarded there, or why it could not be. */
  private agents: AgentsReach | CodePiperError | undefined;

  constructor(
    readonly target: SshTarget,
    private readonly places: SshPlaces,
    /** Called when the connection ends by itself (the network, the host), not by `close`. */
    private readonly onLost: () => void = () => undefined,
  ) {}

  /** Runs a command of ours on the host over the connection, opening it first if it is down. */
  async run(command: string, options: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
    await this.open();
    return runSsh(this.target, this.places, command, options);
  }

  /** Opens the connection unless it is up; rejects (`host_unreachable`) saying why it could not. */
  open(): Promise<void> {
    if (this.ended) return Promise.reject(new CodePiperError('host_unreachable', `the connection to ${this.target.name} is closed`));
    if ((this.master || this.adopted) && existsSync(controlSocket(this.target, this.places))) return Promise.resolve();
    this.opening ??= this.start().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** How the programs there reach the daemon (for an agent's hooks); refused when the host would not forward the agents' socket. */
  async agentsReach(): Promise<AgentsReach> {
    await this.open();
    if (!this.agents) throw new CodePiperError('host_unreachable', `the connection to ${this.target.name} is not up`);
    if (this.agents instanceof CodePiperError) throw this.agents;
    return this.agents;
  }

  /** Ends the connection, whoever opened it (an earlier daemon may have), and every session over it. */
  async close(): Promise<void> {
    this.ended = true;
    await this.opening?.catch(() => undefined);
    const master = this.master;
    this.master = undefined;
    this.adopted = false;
    await controlConnection(this.target, this.places, 'exit');
    master?.kill();
  }

  /** Lets the connection go as the daemon stops: it takes nothing new, and ends once the sessions' panes over it have. */
  async release(): Promise<void> {
    this.ended = true;
    // One being opened is let go too, once it is up.
    await this.opening?.catch(() => undefined);
    const master = this.master;
    this.master = undefined;
    this.adopted = false;
    await controlConnection(this.target, this.places, 'stop');
    // It outlives the daemon for the panes still over it: nothing of it keeps this process alive.
    master?.stderr?.destroy();
    master?.unref();
  }

  private async start(): Promise<void> {
    const socket = controlSocket(this.target, this.places);
    await mkdir(this.places.sockets, { recursive: true, mode: 0o700 });
    if (existsSync(socket)) {
      // Left by an earlier daemon: taken as it is if it answers, else cleared for a new one.
      if (await controlConnection(this.target, this.places, 'check')) {
        // Its master forwards the agents' socket already, to this same socket here.
        this.agents = await this.reachAgents(false);
        this.adopted = true;
        return;
      }
      await rm(socket, { force: true });
    }
    this.adopted = false;
    const child = spawn('ssh', [...sshOptions(this.target, this.places, 'master'), '-N', '--', this.target.destination], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    const exited = new Promise<SshResult>((resolve) => child.once('exit', (code) => resolve({ code, stdout: '', stderr })));
    const deadline = Date.now() + OPEN_TIMEOUT_MS;
    // Up once its control socket is there; or it ended, saying why. Closed or let go meanwhile, a host that
    // does not answer is waited for no longer: nothing goes over a connection not up yet.
    while (!existsSync(socket)) {
      const ended = await raceTimeout(exited, 25);
      if (ended) throw new CodePiperError('host_unreachable', describeSshFailure(this.target, ended));
      if (this.ended || Date.now() > deadline) {
        child.kill();
        throw new CodePiperError('host_unreachable', this.ended ? `the connection to ${this.target.name} is closed` : describeSshFailure(this.target, { code: null, stdout: '', stderr }));
      }
    }
    this.master = child;
    void exited.then(() => {
      if (this.master !== child) return;
      this.master = undefined;
      this.agents = undefined;
      this.onLost();
    });
    this.agents = await this.reachAgents(true);
  }

  /**
   * Where the agents' socket is on the host: `~/.codepiper/agents.sock`,
   * that user's only (sshd makes it 0600). `forward`: this connection is
   * new, and forwards it there to the daemon's (agents' hooks only, each
   * with its session's secret); a socket left there by a lost connection is
   * removed first, since sshd would not bind over it.
   */
  private async reachAgents(forward: boolean): Promise<AgentsReach | CodePiperError> {
    const found = await runSsh(this.target, this.places, 'printf %s "$HOME"');
    const home = found.stdout;
    if (found.code !== 0 || !home.startsWith('/')) return new CodePiperError('host_unreachable', `could not read the home directory on ${this.target.name}: ${describeSshFailure(this.target, found)}`);
    const agentSocket = `${home}/.codepiper/agents.sock`;
    if (!forward) return { home, agentSocket };
    const dir = shQuote(`${home}/.codepiper`);
    const cleared = await runSsh(this.target, this.places, inSh(`mkdir -p ${dir} && chmod 700 ${dir} && rm -f ${shQuote(agentSocket)}`));
    const forwarded = cleared.code === 0 ? await forwardSocket(this.target, this.places, agentSocket, this.places.agentSocket) : cleared;
    if (forwarded.code !== 0) {
      return new CodePiperError(
        'host_unreachable',
        `${this.target.name} would not forward the daemon’s socket for the agents’ hooks (is AllowStreamLocalForwarding off in its sshd_config?): ${describeSshFailure(this.target, forwarded)}`,
      );
    }
    return { home, agentSocket };
  }
}

import { CodePiperError, type PluginHooks } from '@codepiper/sdk';
import {
  governSession,
  hostPlace,
  remoteLaunch,
  sessionAbandoned,
  sessionSecret,
  sessionWorktree,
  type LaunchSpec,
  type ProgramPlace,
  type RemoteLaunch,
  type SessionGovernance,
  type WorktreeRequest,
} from '@codepiper/sessions-contract';

const hostsUnavailable = (): CodePiperError => new CodePiperError('hosts_unavailable', 'no loaded plugin reaches other hosts (is the hosts plugin disabled?)');

/**
 * What a start asks of other plugins, through the sessions plugin's hooks:
 * each answered by whichever plugin taps the hook, and a clear error naming
 * the plugin to enable when none does.
 */
export class StartAnswers {
  constructor(
    private readonly hooks: PluginHooks,
    /** This machine, as a provider prepares a program to run here. */
    private readonly here: ProgramPlace,
  ) {}

  /** Puts a session being started under what its start asked (the policies plugin). */
  async govern(governance: SessionGovernance): Promise<void> {
    const answer = await this.hooks.call(governSession, governance);
    if (answer === undefined) throw new CodePiperError('policies_unavailable', 'the start names policy sets or asks to run without policies, and no loaded plugin governs sessions (is the policies plugin disabled?)');
  }

  /** The values of named secrets (the secrets plugin). */
  async secretEnv(sessionId: string, names: readonly string[]): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of names) {
      const secret = await this.hooks.call(sessionSecret, { name, sessionId });
      if (secret === undefined) throw new CodePiperError('unknown_secret', `no secret named ${name} (see: codepiper secret list)`);
      env[name] = secret.value;
    }
    return env;
  }

  /** The directory of a session's own worktree (the worktrees plugin). */
  async worktree(request: WorktreeRequest): Promise<string> {
    const answer = await this.hooks.call(sessionWorktree, request);
    if (answer === undefined) throw new CodePiperError('worktrees_unavailable', 'no loaded plugin makes worktrees (is the worktrees plugin disabled?)');
    return answer.cwd;
  }

  /** Where a session's program runs: here, or on `host` as the hosts plugin reaches it. */
  async place(host: string | undefined): Promise<ProgramPlace> {
    if (host === undefined) return this.here;
    const place = await this.hooks.call(hostPlace, { host });
    if (place === undefined) throw hostsUnavailable();
    return place;
  }

  /** What runs here for a program on a host (the hosts plugin). */
  async onHost(launch: RemoteLaunch): Promise<LaunchSpec> {
    const here = await this.hooks.call(remoteLaunch, launch);
    if (here === undefined) throw hostsUnavailable();
    return here;
  }

  /** Tells the plugins to undo what they made for a session whose start failed before its program ran: a worktree, policy sets. */
  async abandoned(sessionId: string): Promise<void> {
    await this.hooks.call(sessionAbandoned, { sessionId });
  }
}

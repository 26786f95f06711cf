import { randomUUID } from 'node:crypto';
import { CodePiperError, KeyedLock, raceTimeout, type Logger, type PluginHooks } from '@codepiper/sdk';
import {
  checkInput,
  type ImageType,
  isFinished,
  keepSession,
  type KeyName,
  type LaunchSpec,
  type ProgramPlace,
  type ProviderInfo,
  type Screen,
  type SessionDirectory,
  sessionHost,
  type SessionLauncher,
  type SessionProvider,
  type SessionRecord,
  type SessionFilter,
  type SessionStatus,
  type SessionTerminal,
  startGovernsPolicies,
  type StartOptions,
  type StartSessionInput,
  type StartSessionRequest,
  type TranscriptEntry,
  TURN_ENDED_EVENT,
  type TurnEnded,
} from '@codepiper/sessions-contract';
import type { EventLog } from '@codepiper/events-contract';
import type { SessionsConfig } from './config.js';
import type { SessionImages } from './images.js';
import type { LocalPlace } from './local-place.js';
import { SESSION_MARKER } from './control-guard.js';
import { OutputSettling } from './output-settling.js';
import { assertRemoteStart, existingDirectory, validateOptions } from './start-checks.js';
import { StartAnswers } from './start-answers.js';
import { deathOutcome, SessionEndings } from './endings.js';
import type { Providers } from './registry.js';
import { nameTaken, toRecord, type SessionRepository, type StoredSession } from './repository.js';
import { TmuxError, type TmuxServer, type TmuxSessionInfo } from './tmux/index.js';

const SOURCE = 'sessions';

export interface SessionServiceDeps {
  repo: SessionRepository;
  tmux: TmuxServer;
  events: EventLog;
  providers: Providers;
  hooks: PluginHooks;
  log: Logger;
  config: SessionsConfig;
  env: Readonly<Record<string, string | undefined>>;
  /** `codepiper daemon status` lists what is wrong until it is cleared (null). */
  reportProblem: (key: string, message: string | null) => void;
  images: SessionImages;
  /** This machine, as a provider prepares a program to run here. */
  here: LocalPlace;
}

/** The lock a session's input is typed under (its record has a lock of its own, taken by status changes while a send waits). */
const inputKey = (sessionId: string): string => `input:${sessionId}`;

/**
 * Sessions: their records, their terminals in tmux and every change to them
 * as an event. The daemon is the source of truth; tmux holds the processes.
 */
export class SessionService implements SessionDirectory {
  /** Serialises each session's state changes: a program may die while it is still being launched. */
  private readonly locks = new KeyedLock();

  /** Status from output for providers without hooks. */
  private readonly settling: OutputSettling;
  private readonly answers: StartAnswers;
  private readonly endings: SessionEndings;

  constructor(private readonly deps: SessionServiceDeps) {
    this.answers = new StartAnswers(deps.hooks, deps.here);
    this.settling = new OutputSettling(deps.tmux, (id, status) => (status === 'idle' ? this.endTurn(id, { lastMessage: null }) : this.setStatus(id, status)), deps.log);
    const { repo, tmux, log, reportProblem } = deps;
    this.endings = new SessionEndings({ repo, tmux, log, reportProblem, locks: this.locks, settling: this.settling, emit: (sessionId, type, payload) => this.emit(sessionId, type, payload) });
  }

  /* ----- SessionDirectory, for other plugins ----- */

  async resolve(ref: string): Promise<SessionRecord> {
    return toRecord(await this.deps.repo.resolve(ref));
  }

  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    return (await this.listing(filter)).sessions;
  }

  /** The sessions `filter` lists, and how many older finished ones it left out. */
  async listing(filter: SessionFilter = {}): Promise<{ sessions: SessionRecord[]; finishedLeftOut: number }> {
    const { sessions, finishedLeftOut } = await this.deps.repo.list(filter);
    return { sessions: sessions.map(toRecord), finishedLeftOut };
  }

  async setStatus(id: string, status: SessionStatus, detail: string | null = null): Promise<SessionRecord> {
    const { id: sessionId } = await this.deps.repo.resolve(id);
    return this.locks.run(sessionId, async () => {
      const session = await this.deps.repo.existing(sessionId);
      if (isFinished(session.status) || (session.status === status && session.statusDetail === detail)) return toRecord(session);
      const updated = await this.deps.repo.update(session.id, { status, statusDetail: detail });
      await this.emit(session.id, 'session.status', { from: session.status, to: status, detail });
      return toRecord(updated);
    });
  }

  async endTurn(id: string, turn: TurnEnded): Promise<SessionRecord> {
    const session = await this.setStatus(id, 'idle', turn.error ? `error: ${turn.error}`.slice(0, 300) : null);
    if (!isFinished(session.status)) await this.emit(session.id, TURN_ENDED_EVENT, turn);
    return session;
  }

  async updateMetadata(id: string, patch: Record<string, unknown>): Promise<SessionRecord> {
    const session = await this.deps.repo.resolve(id);
    return toRecord(await this.deps.repo.update(session.id, { metadata: { ...session.metadata, ...patch } }));
  }

  /* ----- Life cycle ----- */

  async start(request: StartSessionRequest, chosen: StartOptions = {}): Promise<SessionRecord> {
    const provider = this.deps.providers.named(request.provider);
    const host = request.host;
    if (host !== undefined) assertRemoteStart(request);
    // A directory on another host is that host's to check.
    const cwd = host === undefined ? await existingDirectory(request.cwd) : request.cwd;
    const options = validateOptions(provider, request.options ?? {});
    const id = chosen.id ?? randomUUID();
    if (chosen.id !== undefined && (await this.deps.repo.get(chosen.id))) throw new CodePiperError('session_exists', `a session with id ${chosen.id} exists`);
    const name = request.name ?? `${provider.id}-${id.slice(0, 8)}`;
    // Before the provider prepares anything; the database's unique index settles a race between two starts.
    const holder = await this.deps.repo.named(name);
    if (holder) throw nameTaken(name, holder);
    const env = request.env ?? {};
    // Named secrets go to the program's environment only: not to the provider, the record or any event.
    const secrets = await this.answers.secretEnv(id, request.secrets ?? []);
    const session = await this.prepared(id, async () => {
      // Governed before its program runs: its first call, and its first prompt, are already under what the start asked.
      if (startGovernsPolicies(request)) await this.answers.govern({ sessionId: id, policySets: request.policySets ?? [], withoutPolicies: request.withoutPolicies === true, by: chosen.by ?? 'daemon' });
      const workdir = request.worktree ? await this.answers.worktree({ sessionId: id, name, cwd, branch: request.worktree === true ? null : request.worktree }) : cwd;
      const base = { id, name, provider: provider.id, cwd: workdir };
      const place = await this.answers.place(host);
      return this.startWith(provider, { sessionId: id, name, cwd: workdir, args: request.args ?? [], env, options }, place, (spec) =>
        host === undefined ? this.launch({ ...base, env: { ...env, ...secrets } }, spec) : this.launchOnHost(host, base, spec, { env, secrets }),
      );
    });
    if (request.prompt !== undefined) {
      // A refused or failed first prompt leaves no half-started session behind.
      await this.input(session.id, request.prompt, true, 'start').catch(async (error: unknown) => {
        await this.kill(session.id).catch(() => undefined);
        throw error;
      });
    }
    return session;
  }

  /** Runs what prepares and launches a new session; if it fails before the program ran (no record), the plugins are told to undo what they made for it. */
  private async prepared(sessionId: string, start: () => Promise<SessionRecord>): Promise<SessionRecord> {
    try {
      return await start();
    } catch (error) {
      if (!(await this.deps.repo.get(sessionId))) await this.answers.abandoned(sessionId);
      throw error;
    }
  }

  /** Starts a finished session again in the same record, for providers that can continue a conversation. */
  async resume(ref: string): Promise<SessionRecord> {
    const previous = await this.deps.repo.resolve(ref);
    if (!isFinished(previous.status)) throw new CodePiperError('session_running', `session ${previous.id.slice(0, 8)} is still ${previous.status}`);
    const provider = this.deps.providers.named(previous.provider);
    if (!provider.resumable) throw new CodePiperError('not_resumable', `provider "${provider.id}" cannot resume a session`);
    await existingDirectory(previous.cwd);
    const host = sessionHost(previous);
    const input = { sessionId: previous.id, name: previous.name, cwd: previous.cwd, args: [], env: {}, options: validateOptions(provider, {}), resume: toRecord(previous) };
    return this.startWith(provider, input, await this.answers.place(host), (spec) => this.relaunch(previous, spec, host));
  }

  /** Runs the provider's start with a launcher that may launch once; a provider failing after launch leaves a crashed session. */
  private async startWith(provider: SessionProvider, input: StartSessionInput, place: ProgramPlace, launch: (spec: LaunchSpec) => Promise<StoredSession>): Promise<SessionRecord> {
    let launched: StoredSession | undefined;
    const launcher: SessionLauncher = {
      place,
      launch: async (spec) => {
        if (launched) throw new Error(`provider "${provider.id}" launched session ${input.sessionId} twice`);
        launched = await launch(spec);
        return this.terminal(launched);
      },
    };
    try {
      await provider.startSession(input, launcher);
    } catch (error) {
      if (launched) await this.endings.finish(launched, { status: 'crashed', exitCode: null, detail: `provider failed after launch: ${message(error)}` });
      throw error instanceof CodePiperError ? error : new CodePiperError('start_failed', `provider "${provider.id}" could not start the session: ${message(error)}`);
    }
    if (!launched) throw new CodePiperError('start_failed', `provider "${provider.id}" did not launch a program`);
    return toRecord((await this.deps.repo.get(input.sessionId)) ?? launched);
  }

  /**
   * Records and runs a session whose program is on another host: its record
   * keeps the provider's command and the directory there; its pane (in the
   * daemon's HOME) runs what the plugin answering `remoteLaunch` (the hosts
   * plugin) gives, the environment and secrets going with the program.
   */
  private async launchOnHost(
    host: string,
    base: { id: string; name: string; provider: string; cwd: string },
    spec: LaunchSpec,
    given: { env: Record<string, string>; secrets: Record<string, string> },
  ): Promise<StoredSession> {
    const here = await this.answers.onHost({ host, sessionId: base.id, cwd: base.cwd, spec: { ...spec, env: { ...given.env, ...spec.env } }, secrets: given.secrets });
    return this.launch({ ...base, env: {}, paneCwd: this.paneCwdForHost() }, spec, here);
  }

  /** The pane of a session on a host runs here, in the daemon's HOME (its directory is the host's). */
  private paneCwdForHost(): string {
    return this.deps.env.HOME ?? '/';
  }

  /**
   * Records and runs a new session: the provider's `spec`, or (`runHere`)
   * what runs here in its place, the program going elsewhere (another host);
   * the record keeps the provider's command either way.
   */
  private async launch(
    base: { id: string; name: string; provider: string; cwd: string; env: Record<string, string>; paneCwd?: string },
    spec: LaunchSpec,
    runHere: LaunchSpec = spec,
  ): Promise<StoredSession> {
    const { paneCwd, ...fields } = base;
    const argv = [await this.deps.providers.programPath(runHere.argv, base.provider, this.deps.env.PATH), ...runHere.argv.slice(1)];
    const now = new Date().toISOString();
    const session: StoredSession = {
      ...fields,
      command: [...spec.argv],
      status: 'starting',
      statusDetail: null,
      exitCode: null,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
      tmuxSession: `cp-${base.id}`,
      tmuxPane: null,
      metadata: { ...spec.metadata, ...runHere.metadata },
    };
    return this.locks.run(base.id, async () => {
      await this.deps.repo.insert(session);
      return this.runInTmux(session, argv, { ...base.env, ...runHere.env }, () => this.deps.repo.delete(session.id), paneCwd);
    });
  }

  /** Starts a finished session's program again in its record; on its host (`host`), with what runs here in its place. */
  private async relaunch(previous: StoredSession, spec: LaunchSpec, host: string | undefined): Promise<StoredSession> {
    const runHere = host === undefined ? spec : await this.answers.onHost({ host, sessionId: previous.id, cwd: previous.cwd, spec, secrets: {} });
    const argv = [await this.deps.providers.programPath(runHere.argv, previous.provider, this.deps.env.PATH), ...runHere.argv.slice(1)];
    return this.locks.run(previous.id, async () => {
      const session = await this.deps.repo.update(previous.id, {
        status: 'starting',
        statusDetail: null,
        exitCode: null,
        endedAt: null,
        tmuxPane: null,
        command: [...spec.argv],
        metadata: { ...previous.metadata, ...spec.metadata, ...runHere.metadata },
      });
      await this.emit(previous.id, 'session.resumed', { from: previous.status, command: session.command });
      const { status, statusDetail, exitCode, endedAt, command } = previous;
      const undo = () => this.deps.repo.update(previous.id, { status, statusDetail, exitCode, endedAt, command });
      return this.runInTmux(session, argv, host === undefined ? (spec.env ?? {}) : {}, undo, host === undefined ? session.cwd : this.paneCwdForHost());
    });
  }

  /** Runs the program in a new tmux session; if that fails, `undo` puts the record back and the error is thrown. */
  private async runInTmux(session: StoredSession, argv: string[], env: Readonly<Record<string, string | null>>, undo: () => Promise<unknown>, paneCwd = session.cwd): Promise<StoredSession> {
    let running: StoredSession;
    try {
      const created = await this.deps.tmux.createSession({
        name: session.tmuxSession,
        cwd: paneCwd,
        argv,
        env,
        sessionEnv: { [SESSION_MARKER]: session.id },
        cols: this.deps.config.cols,
        rows: this.deps.config.rows,
      });
      running = await this.deps.repo.update(session.id, { status: 'running', tmuxPane: created.paneId });
    } catch (error) {
      await this.deps.tmux.killSession(session.tmuxSession).catch(() => undefined);
      await undo();
      throw new CodePiperError('start_failed', `could not start ${JSON.stringify(session.command[0])} in tmux: ${message(error)}`);
    }
    const { name, provider, cwd, command } = session;
    await this.emit(session.id, 'session.started', { name, provider, cwd, command });
    await this.emit(session.id, 'session.status', { from: 'starting', to: 'running', detail: null });
    this.followOutput(running);
    return running;
  }

  async rename(ref: string, name: string): Promise<SessionRecord> {
    const session = await this.deps.repo.resolve(ref);
    const updated = await this.deps.repo.update(session.id, { name });
    await this.emit(session.id, 'session.renamed', { from: session.name, to: name });
    return toRecord(updated);
  }

  /**
   * Asks the provider to end the program; kills it if it has not ended within
   * the stop timeout. A session that has ended already is left as it is.
   */
  async stop(ref: string): Promise<SessionRecord> {
    const session = await this.deps.repo.resolve(ref);
    if (isFinished(session.status)) return toRecord(session);
    const ended = this.endings.whenFinished(session.id);
    await this.deps.providers.get(session.provider)?.stopSession(this.terminal(session), toRecord(session));
    const finished =
      (await raceTimeout(ended, this.deps.config.stop_timeout_ms)) ?? (await this.endings.finish(session, { status: 'exited', exitCode: null, detail: 'killed: it did not stop in time' }));
    return toRecord(finished);
  }

  /** Ends the program at once; a session that has ended already is left as it is. */
  async kill(ref: string): Promise<SessionRecord> {
    const session = await this.deps.repo.resolve(ref);
    if (isFinished(session.status)) return toRecord(session);
    return toRecord(await this.endings.finish(session, { status: 'exited', exitCode: null, detail: 'killed' }));
  }

  /** Forgets a finished session: its record and last screen go, and its name is free again; its events stay in the log. */
  async remove(ref: string): Promise<SessionRecord> {
    const outcome = await this.forget((await this.deps.repo.resolve(ref)).id);
    if ('kept' in outcome) throw new CodePiperError('session_kept', `session ${outcome.session.id.slice(0, 8)} (${outcome.session.name}) is kept: ${outcome.kept}`);
    return outcome.removed;
  }

  /** Removes every finished session but those a plugin keeps; returns both. */
  async prune(): Promise<{ removed: SessionRecord[]; kept: { session: SessionRecord; reason: string }[] }> {
    const finished = (await this.deps.repo.list()).sessions.filter((session) => isFinished(session.status));
    const removed: SessionRecord[] = [];
    const kept: { session: SessionRecord; reason: string }[] = [];
    for (const session of finished) {
      // One resumed meanwhile is running again: it stays; one another client removed meanwhile is gone.
      const outcome = await this.forget(session.id).catch((error: unknown) => {
        if (error instanceof CodePiperError && (error.code === 'session_running' || error.code === 'not_found')) return undefined;
        throw error;
      });
      if (outcome && 'kept' in outcome) kept.push({ session: outcome.session, reason: outcome.kept });
      else if (outcome) removed.push(outcome.removed);
    }
    return { removed, kept };
  }

  /** Forgets a finished session unless a plugin keeps it (`keepSession`), saying why. */
  private forget(id: string): Promise<{ removed: SessionRecord } | { session: SessionRecord; kept: string }> {
    return this.locks.run(id, async () => {
      const current = await this.deps.repo.existing(id);
      if (!isFinished(current.status)) {
        throw new CodePiperError('session_running', `session ${current.id.slice(0, 8)} (${current.name}) is ${current.status}; stop it first (codepiper stop ${current.id.slice(0, 8)})`);
      }
      const session = toRecord(current);
      const kept = await this.deps.hooks.call(keepSession, session);
      if (kept) return { session, kept: kept.reason };
      await this.deps.repo.delete(current.id);
      await this.deps.images.forget(current.id);
      await this.deps.here.removeSessionDirs(current.id);
      const host = sessionHost(session);
      // A session's host goes with its removal: the hosts plugin removes what it had there.
      await this.emit(current.id, 'session.removed', { name: current.name, ...(host !== undefined && { host }) });
      return { removed: session };
    });
  }

  /* ----- Terminal ----- */

  async input(ref: string, text: string, submit: boolean, via: string): Promise<void> {
    const session = await this.live(ref);
    await this.check(session, 'text', text, via);
    // One send is one unit: another client's text can never fall between this text and its Enter.
    await this.locks.run(inputKey(session.id), () => this.deps.providers.of(session).sendText(this.terminal(session), text, submit));
  }

  async keys(ref: string, keys: readonly KeyName[], via: string): Promise<void> {
    const session = await this.live(ref);
    await this.check(session, 'keys', keys.join(' '), via);
    await this.locks.run(inputKey(session.id), () => this.deps.providers.of(session).sendKeys(this.terminal(session), keys));
  }

  async transcript(ref: string): Promise<TranscriptEntry[]> {
    const session = await this.deps.repo.resolve(ref);
    const provider = this.deps.providers.of(session);
    if (!provider.transcript) throw new CodePiperError('no_transcript', `provider "${provider.id}" keeps no transcript`);
    return provider.transcript(toRecord(session));
  }

  /** Keeps an image for the session's agent; answers what to type in a prompt to give it to the agent. */
  async keepImage(ref: string, mediaType: ImageType, base64: string): Promise<{ file: string; reference: string }> {
    const session = await this.live(ref);
    const provider = this.deps.providers.of(session);
    if (!provider.imageReference) throw new CodePiperError('images_unsupported', `provider "${provider.id}" cannot give its agent images`);
    const file = await this.deps.images.keep(session.id, mediaType, base64);
    return { file, reference: provider.imageReference(file) };
  }

  async switchModel(ref: string, model: string, via: string): Promise<void> {
    const session = await this.live(ref);
    const provider = this.deps.providers.of(session);
    if (!provider.switchModel) throw new CodePiperError('model_switch_unsupported', `provider "${provider.id}" cannot switch models`);
    await this.check(session, 'text', `/model ${model}`, via);
    await provider.switchModel(this.terminal(session), toRecord(session), model);
  }

  /** Raw bytes from an interactive terminal client, typed as they are. */
  async typeRaw(session: StoredSession, data: string, via: string): Promise<void> {
    await this.check(session, 'text', data, via);
    await this.terminal(session).typeText(data);
  }

  async screen(ref: string): Promise<Screen> {
    const session = await this.deps.repo.resolve(ref);
    if (isFinished(session.status)) {
      const last = await this.deps.repo.lastScreen(session.id);
      if (!last) throw new CodePiperError('no_screen', `session ${session.id.slice(0, 8)} has ended and left no screen`);
      return last;
    }
    return this.terminal(session).screen();
  }

  async scrollback(ref: string, lines: number): Promise<string> {
    const session = await this.deps.repo.resolve(ref);
    if (isFinished(session.status)) return tail((await this.deps.repo.lastScreen(session.id))?.text ?? '', lines);
    return tail(await inTerminal(session, () => this.deps.tmux.capture(pane(session), { scrollbackLines: lines })), lines);
  }

  async resize(ref: string, cols: number, rows: number): Promise<void> {
    const session = await this.live(ref);
    await inTerminal(session, () => this.deps.tmux.resize(session.tmuxSession, cols, rows));
  }

  /** Resolves a session whose program is still running, or fails with 409. */
  async live(ref: string): Promise<StoredSession> {
    const session = await this.deps.repo.resolve(ref);
    if (isFinished(session.status)) {
      throw new CodePiperError('session_ended', `session ${session.id.slice(0, 8)} (${session.name}) has ${session.status}; it takes no input`);
    }
    return session;
  }

  find(ref: string): Promise<StoredSession> {
    return this.deps.repo.resolve(ref);
  }

  /** The session with this exact id, if any. */
  get(id: string): Promise<StoredSession | undefined> {
    return this.deps.repo.get(id);
  }

  /** The pid of each live program in the tmux server → its session's id (undefined for a tmux session no record owns). */
  async panePids(): Promise<Map<number, string | undefined>> {
    const panes = new Map<number, string | undefined>();
    for (const t of await this.deps.tmux.listSessions().catch(() => [])) {
      if (t.pid !== null && !t.dead) panes.set(t.pid, t.name.startsWith('cp-') ? t.name.slice(3) : undefined);
    }
    return panes;
  }

  /* ----- Survival ----- */

  /**
   * After a (re)start: adopt every live session, record those whose program
   * ended meanwhile, and leave alone the tmux sessions no record owns.
   */
  async reconcile(): Promise<void> {
    const [running, unfinished] = await Promise.all([this.deps.tmux.listSessions(), this.deps.repo.listUnfinished()]);
    const live = new Map(running.map((t) => [t.name, t]));
    // Adopted side by side: their writes and events reach the store as one burst, not one after another.
    const adoptions: Promise<void>[] = [];
    for (const session of unfinished) {
      const found = live.get(session.tmuxSession);
      live.delete(session.tmuxSession);
      if (!found) {
        // A session still `starting` was recorded before its tmux session was made: a daemon killed in between never ran it.
        const detail = session.status === 'starting' ? 'the daemon stopped before its program started' : 'its terminal was gone when the daemon started';
        await this.endings.finish(session, { status: 'crashed', exitCode: null, detail });
      } else if (found.dead) {
        await this.endings.finish(session, deathOutcome(found.exitCode, found.signal));
      } else {
        adoptions.push(this.adopt(session, found));
      }
    }
    await Promise.all(adoptions);
    for (const orphan of live.values()) {
      if (!orphan.name.startsWith('cp-')) continue;
      // Never killed: a program is worth more than a record (a database restored from an older copy lacks the newest).
      this.deps.log.warn({ tmuxSession: orphan.name, tmuxSocket: this.deps.tmux.socketPath }, 'a tmux session that no session record owns is left running (tmux -S SOCKET attach -t NAME to see it)');
    }
  }

  /** A session whose program the daemon found running in tmux at start: followed again, and handed back to its provider. */
  private async adopt(session: StoredSession, found: TmuxSessionInfo): Promise<void> {
    const status = session.status === 'starting' ? 'running' : session.status;
    // Most sessions are found as they were recorded: those cost no write (a restart adopting 200 wrote 400 queries).
    const unchanged = found.paneId === session.tmuxPane && status === session.status;
    const adopted = unchanged ? session : await this.deps.repo.update(session.id, { tmuxPane: found.paneId, status });
    await this.emit(session.id, 'session.adopted', { pane: found.paneId, status: adopted.status });
    this.followOutput(adopted);
    await this.deps.providers
      .get(session.provider)
      ?.adopted?.(this.terminal(adopted), toRecord(adopted), () => this.answers.place(sessionHost(session)))
      .catch((error: unknown) => this.deps.log.warn({ err: error, session: session.id }, 'the provider failed to pick up an adopted session'));
  }

  async onPaneDied(tmuxSession: string, exitCode: number | null, signal: number | null): Promise<void> {
    const session = await this.byTmuxName(tmuxSession);
    if (session) await this.endings.finishSurely(session, deathOutcome(exitCode, signal));
  }

  async onTmuxSessionGone(tmuxSession: string): Promise<void> {
    const session = await this.byTmuxName(tmuxSession);
    if (session) await this.endings.finish(session, { status: 'crashed', exitCode: null, detail: 'its tmux session was destroyed outside CodePiper' });
  }

  /** Forwards a stored event to the provider of its session. */
  async dispatchToProvider(event: { sessionId: string | null; type: string; payload: unknown }): Promise<void> {
    if (!event.sessionId || event.type.startsWith('session.')) return;
    const session = await this.deps.repo.get(event.sessionId);
    if (!session) return;
    await this.deps.providers.get(session.provider)?.onEvent?.({ type: event.type, payload: event.payload }, toRecord(session));
  }

  private async byTmuxName(tmuxSession: string): Promise<StoredSession | undefined> {
    return tmuxSession.startsWith('cp-') ? this.deps.repo.get(tmuxSession.slice(3)) : undefined;
  }

  /** Sessions whose provider has no hooks get their status from output settling. */
  private followOutput(session: StoredSession): void {
    const idleAfterMs = this.deps.providers.get(session.provider)?.idleAfterMs;
    if (idleAfterMs) this.settling.follow(session, idleAfterMs);
  }

  /** Stops watching output; the daemon is stopping. */
  close(): void {
    this.endings.close();
    this.settling.close();
  }

  private terminal(session: StoredSession): SessionTerminal {
    const paneId = pane(session);
    const { tmux } = this.deps;
    return {
      sessionId: session.id,
      typeText: (text) => inTerminal(session, () => tmux.typeText(paneId, text)),
      pressKeys: (keys) => inTerminal(session, () => tmux.pressKeys(paneId, keys)),
      signal: async (signal) => {
        const pid = await inTerminal(session, () => tmux.panePid(paneId));
        if (!pid) return;
        this.deps.log.info({ session: session.id, pid, signal }, 'signalling the program');
        process.kill(pid, signal);
      },
      screen: () => inTerminal(session, () => tmux.screen(paneId)),
    };
  }

  /** The installed providers with the options each takes; for those that run an agent CLI, where the daemon finds it. */
  providers(): Promise<ProviderInfo[]> {
    return this.deps.providers.describe(this.deps.env.PATH);
  }

  private async check(session: StoredSession, kind: 'text' | 'keys', input: string, via: string): Promise<void> {
    const verdict = await this.deps.hooks.call(checkInput, { session: toRecord(session), kind, input, via });
    if (verdict) throw new CodePiperError('input_refused', `input refused: ${verdict.reason}`);
  }

  private async emit(sessionId: string, type: string, payload: unknown): Promise<void> {
    await this.deps.events.append({ sessionId, type, payload }, SOURCE);
  }
}

function pane(session: StoredSession): string {
  if (!session.tmuxPane) throw new CodePiperError('session_not_ready', `session ${session.id.slice(0, 8)} has no terminal yet`);
  return session.tmuxPane;
}

/**
 * Runs a tmux command on a session's terminal. A terminal tmux no longer has means the program (or tmux) ended before
 * the daemon took that in: refused as for a session recorded as ended.
 */
async function inTerminal<T>(session: StoredSession, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof TmuxError && error.code === 'not_found')) throw error;
    throw new CodePiperError('session_ended', `session ${session.id.slice(0, 8)} (${session.name}) has no terminal any more: its program or tmux has ended`);
  }
}

function tail(text: string, lines: number): string {
  const all = text.replace(/\n+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import os from 'node:os';
import path from 'node:path';
import { bearerToken, CodePiperError, definePlugin, raceTimeout } from '@codepiper/sdk';
import { ClaudeCodeOptionsSchema, claudeCodeEndpoints, type ClaudeCodeOptions, type ClaudeHookReply } from '@codepiper/claude-code-contract';
import { describeToolCall, toolCallOffline, toolCallRan, toolPermission, type ToolCallVerdict } from '@codepiper/policies-contract';
import { eventLogRef } from '@codepiper/events-contract';
import { historyImportersRef, usageLedgerRef } from '@codepiper/analytics-contract';
import { FORWARDER_DIGEST, hookSecretHash, HookSecretCheck, loggedHookPayload, OFFLINE_KEPT_HEADER, offlineEvents, offlineFile, offlineToolCalls, refreshForwarder, takeFile, type OfflineToolCall } from '@codepiper/sessions-contract/agent-hooks';
import { hostPlace, isFinished, providerRegistryRef, sessionDirectoryRef, sessionHost, typeText, waitForScreen, type ProgramPlace, type SessionProvider, type SessionRecord, type SessionTerminal, type TurnEnded } from '@codepiper/sessions-contract';
import * as Type from '@sinclair/typebox';
import { computedTranscriptPath, forwarderScriptOptions, writeSessionFiles } from './launch.js';
import { switchModelForSession } from './model-switch.js';
import { answeredOnScreen, answerPermissionDialog, showsPermissionDialog } from './permission-dialog.js';
import { stopClaude } from './stop.js';
import { PromptSubmissions, submitPrompt } from './submit.js';
import { migrations, SOURCE, TranscriptTailer } from './tailer.js';
import { answerTrust, folderNotTrusted, settleStart, showsTrustDialog, type StartOutcome } from './trust-dialog.js';
import { claudeHistory, readTranscript } from './transcript.js';

export { HOOK_EVENTS, writeSessionFiles } from './launch.js';
export { claudeHistory, readTranscript, toEntries, TranscriptParser } from './transcript.js';

const PROVIDER_ID = 'claude-code';
const PLUGIN = 'provider-claude-code';
/** The tool name Claude's folder-trust question goes by, as a permission question (`path`: the folder). */
const TRUST_FOLDER = 'trust_folder';

export const ClaudeCodeConfig = Type.Object({
  claude_bin: Type.Optional(Type.String({ minLength: 1, description: 'The claude program (default: $CODEPIPER_CLAUDE_BIN, else `claude` on PATH)' })),
  hook_timeout_s: Type.Integer({ minimum: 1, maximum: 300, default: 30, description: 'How long a hook waits for the daemon before it gives up (a PreToolUse then asks the person); a permission prompt’s hook waits for a person as long as Claude does' }),
});

/** Session variables kept with the session so `codepiper resume` runs Claude in the same config dir; never keys. */
const KEPT_ENV = /^(CLAUDE_[A-Z0-9_]*|ANTHROPIC_BASE_URL|DISABLE_[A-Z0-9_]*)$/;
const SECRET_ENV = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** How long a first input waits for Claude's SessionStart, then for its input line, before it is typed anyway. */
const READY_TIMEOUT_MS = 20_000;
/** Claude's input line (`❯ `), drawn a moment after SessionStart: keys typed before it are lost. */
const INPUT_LINE = /^\s*❯/m;

/** A hook event's name as Claude sends it; it becomes part of an event type (`claude.<name>`). */
const HOOK_EVENT_NAME = /^[A-Za-z0-9_]+$/;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Where the daemon reads a session's transcript: the file Claude writes, or for a session on a host the copy kept here. */
const transcriptHere = (session: Pick<SessionRecord, 'metadata'>): string | undefined => str(session.metadata.transcriptCopy) ?? str(session.metadata.transcriptPath);

/** The end of a turn a hook tells (Stop, or StopFailure with its error); undefined for any other hook. */
function turnEnded(name: string, payload: Record<string, unknown>): TurnEnded | undefined {
  if (name === 'Stop') return { lastMessage: str(payload.last_assistant_message) ?? null };
  if (name !== 'StopFailure') return undefined;
  return { lastMessage: null, error: str(payload.error) ?? str(payload.error_details) ?? str(payload.message) ?? JSON.stringify(payload.error ?? 'unknown error') };
}

function hookReply(event: 'PreToolUse' | 'PermissionRequest', verdict: ToolCallVerdict | undefined): ClaudeHookReply {
  if (!verdict) return {};
  if (event === 'PreToolUse') {
    return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: verdict.decision, permissionDecisionReason: verdict.reason } };
  }
  // A PermissionRequest can only allow or deny; `ask` leaves the prompt to the person.
  if (verdict.decision === 'ask') return {};
  return { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: verdict.decision, message: verdict.reason } } };
}

export default definePlugin({
  name: PLUGIN,
  api: '^1.0.0',
  description: 'The `claude-code` provider: Claude Code in a terminal, with its hooks, transcript, usage and resume',
  uses: [providerRegistryRef, sessionDirectoryRef, eventLogRef, usageLedgerRef, historyImportersRef],
  config: ClaudeCodeConfig,
  register(ctx) {
    const directory = () => ctx.services.get(sessionDirectoryRef);
    const events = () => ctx.services.get(eventLogRef);
    const secrets = new HookSecretCheck(PROVIDER_ID, directory);
    const tailer = new TranscriptTailer({ store: () => ctx.store, events, sessions: directory, ledger: () => ctx.services.get(usageLedgerRef), log: ctx.log });
    let unsubscribe: (() => void) | undefined;
    /** Sessions launched that have not taken input yet; `ready` resolves at their SessionStart hook, `settled` once past (or stopped at) the trust question. */
    const starting = new Map<string, { ready: Promise<void>; resolve: () => void; settled: Promise<StartOutcome>; cwd: string }>();
    const submissions = new PromptSubmissions();
    const whenReady = async (terminal: SessionTerminal) => {
      const gate = starting.get(terminal.sessionId);
      if (!gate) return;
      // Never type into the trust question: the Enter would pick "No, exit". Its `❯` also looks like the input line.
      const refuseTrustDialog = async () => {
        if (showsTrustDialog((await terminal.screen()).text)) throw folderNotTrusted(gate.cwd);
      };
      await gate.settled;
      await refuseTrustDialog();
      await raceTimeout(gate.ready, READY_TIMEOUT_MS);
      await waitForScreen(terminal, INPUT_LINE, READY_TIMEOUT_MS);
      await refuseTrustDialog();
      starting.delete(terminal.sessionId);
    };

    /**
     * Claude's trust question, put to a person like a permission (tool
     * `trust_folder`, a policy may answer it): answered from a client, the
     * answer is given in the dialog; answered in the terminal, Claude starting
     * is the yes.
     */
    const askTrust = async (terminal: SessionTerminal, ready: Promise<void>, cwd: string): Promise<void> => {
      const session = await directory().resolve(terminal.sessionId);
      const toolInput = { path: cwd };
      void ready.then(() => ctx.hooks.call(toolCallRan, { session, toolName: TRUST_FOLDER, toolInput })).catch(() => undefined);
      // Nothing ends this wait but an answer, Claude starting, or the session ending.
      const verdict = await ctx.hooks.call(toolPermission, { session, stage: 'prompt', toolName: TRUST_FOLDER, toolInput, signal: new AbortController().signal });
      if (!verdict || verdict.decision === 'ask' || !showsTrustDialog((await terminal.screen()).text)) return;
      await answerTrust(terminal, verdict.decision === 'allow' ? 'yes' : 'no');
    };

    /** Answers Claude's trust question (with `trust`) or shows the session as waiting on it. */
    const watchStart = async (terminal: SessionTerminal, ready: Promise<void>, trust: boolean, cwd: string): Promise<StartOutcome> => {
      try {
        const outcome = await settleStart(terminal, { ready, trust, timeoutMs: READY_TIMEOUT_MS });
        if (outcome === 'untrusted') {
          await directory().setStatus(terminal.sessionId, 'waiting', `trust: ${cwd}`);
          void askTrust(terminal, ready, cwd).catch((error: unknown) => ctx.log.warn({ err: error, session: terminal.sessionId }, 'asking to trust a folder failed'));
        }
        return outcome;
      } catch (error) {
        ctx.log.warn({ err: error, session: terminal.sessionId }, 'watching the start of a Claude Code session failed');
        return 'timeout';
      }
    };

    /**
     * A permission question the last daemon left pending while Claude still
     * shows its prompt: asked again (the same approval comes back). An answer
     * from a client is given in the prompt; one given in the terminal is seen
     * on the screen (a no interrupts Claude's turn).
     */
    const askAgainOnScreen = async (terminal: SessionTerminal, session: SessionRecord, toolName: string, toolInput: unknown): Promise<void> => {
      const gone = new AbortController();
      const done = new AbortController();
      void answeredOnScreen(terminal, done.signal).then(async (answer) => {
        if (answer === 'yes') await ctx.hooks.call(toolCallRan, { session, toolName, toolInput });
        else if (answer === 'no') gone.abort();
      });
      let verdict: ToolCallVerdict | undefined;
      try {
        verdict = await ctx.hooks.call(toolPermission, { session, stage: 'prompt', toolName, toolInput, signal: gone.signal });
      } finally {
        done.abort();
      }
      if (!verdict || verdict.decision === 'ask') return;
      if (!gone.signal.aborted) await answerPermissionDialog(terminal, verdict.decision);
      // A no, in the terminal or given there for a client.
      if (verdict.decision === 'deny') await interruptedAtPrompt(session.id);
    };

    /** A no (or Esc) at Claude's permission prompt interrupts its turn, and no Stop hook follows: the turn ends here. */
    const interruptedAtPrompt = async (sessionId: string): Promise<void> => {
      if (isFinished((await directory().resolve(sessionId)).status)) return;
      await directory().endTurn(sessionId, { lastMessage: null, error: 'interrupted at a permission prompt' });
    };

    ctx.migrations(migrations);

    /** A host, as the hosts plugin reaches it (see `hostPlace`). */
    const placeOf = async (host: string): Promise<ProgramPlace> => {
      const place = await ctx.hooks.call(hostPlace, { host });
      if (!place) throw new CodePiperError('hosts_unavailable', `no loaded plugin reaches ${host} (is the hosts plugin disabled?)`);
      return place;
    };
    /** A transcript on a host: the copy of it the hosts plugin keeps here as it grows. */
    const copyFromHost = async (host: string, sessionId: string, file: string): Promise<string> => (await placeOf(host)).readable(sessionId, file);

    /** The claude program: config.yaml's claude_bin, else $CODEPIPER_CLAUDE_BIN, else `claude` on PATH. */
    const claudeBin = (): string => ctx.config.claude_bin ?? ctx.env.CODEPIPER_CLAUDE_BIN ?? 'claude';

    const provider: SessionProvider = {
      id: PROVIDER_ID,
      description: 'Claude Code (hooks, transcript, usage, model switch, resume)',
      options: ClaudeCodeOptionsSchema,
      resumable: true,

      program: () => ({
        command: claudeBin(),
        hint: 'install Claude Code (npm i -g @anthropic-ai/claude-code), or point at it with CODEPIPER_CLAUDE_BIN=/path/to/claude in the daemon\'s environment or claude_bin under provider-claude-code in config.yaml',
      }),

      async startSession(input, launcher) {
        const options = input.options as ClaudeCodeOptions;
        const previous = input.resume?.metadata ?? {};
        const previousEnv = (typeof previous.claudeEnv === 'object' && previous.claudeEnv !== null ? previous.claudeEnv : {}) as Record<string, string>;
        const { place } = launcher;
        // The daemon's own setting names a program on this machine; on a host, `claude` on its PATH unless the start names one.
        const bin = options.claude_bin ?? (place.host === null ? claudeBin() : 'claude');
        const files = await writeSessionFiles(
          { dir: place.sessionDir(PLUGIN, input.sessionId), sessionId: input.sessionId, daemonSocket: place.agentSocket, timeoutS: ctx.config.hook_timeout_s },
          (written) => place.writeFiles(written),
        );

        const resumeId = options.resume ?? (input.resume ? (str(previous.claudeSessionId) ?? input.sessionId) : undefined);
        const claudeSessionId = resumeId ?? input.sessionId;
        const model = options.model ?? (input.resume ? str(previous.model) : undefined);
        const permissionMode = options.permissionMode ?? (input.resume ? str(previous.permissionMode) : undefined);
        // On resume the options are only defaults: the session keeps its billing.
        const billing = (input.resume ? str(previous.billing) : undefined) ?? options.billing ?? 'subscription';

        const claudeEnv = Object.fromEntries(
          Object.entries({ ...previousEnv, ...input.env }).filter(([name]) => KEPT_ENV.test(name) && !SECRET_ENV.test(name)),
        );
        const configDir = claudeEnv.CLAUDE_CONFIG_DIR ?? (place.host === null ? ctx.env.CLAUDE_CONFIG_DIR : undefined) ?? path.join(place.home, '.claude');
        const transcriptPath =
          input.resume && str(previous.transcriptPath) && str(previous.claudeSessionId) === claudeSessionId
            ? (str(previous.transcriptPath) ?? '')
            : computedTranscriptPath(configDir, input.cwd, claudeSessionId);

        const argv = [bin, resumeId ? '--resume' : '--session-id', claudeSessionId, '--settings', files.settingsPath];
        if (permissionMode) argv.push('--permission-mode', permissionMode);
        if (model) argv.push('--model', model);
        argv.push(...input.args);

        const env: Record<string, string | null> = { ...(input.resume ? previousEnv : {}) };
        if (billing === 'subscription') Object.assign(env, { ANTHROPIC_API_KEY: null, ANTHROPIC_AUTH_TOKEN: null });

        const keyHash = hookSecretHash(files.secret);
        secrets.launched(input.sessionId, keyHash);
        const transcriptRead = await place.readable(input.sessionId, transcriptPath);
        let resolve = () => {};
        const ready = new Promise<void>((done) => (resolve = done));
        const gate = { ready, resolve, settled: ready.then((): StartOutcome => 'started'), cwd: input.cwd };
        starting.set(input.sessionId, gate);
        const terminal = await launcher.launch({
          argv,
          env,
          metadata: {
            claudeSessionId,
            model: model ?? null,
            billing,
            permissionMode: permissionMode ?? null,
            settingsPath: files.settingsPath,
            transcriptPath,
            ...(transcriptRead !== transcriptPath && { transcriptCopy: transcriptRead }),
            hookKeyHash: keyHash,
            [FORWARDER_DIGEST]: files.forwarderDigest,
            claudeEnv,
          },
        });
        gate.settled = watchStart(terminal, gate.ready, options.trust === true, input.cwd);
        await tailer.follow(input.sessionId, transcriptRead);
      },

      async adopted(terminal, session, where) {
        void where()
          .then((place) => refreshForwarder(session, forwarderScriptOptions(place.sessionDir(PLUGIN, session.id), place.agentSocket), { place, sessions: directory() }))
          .catch((error: unknown) => ctx.log.warn({ err: error, session: session.id }, 'could not bring an adopted session’s hook forwarder up to date'));
        if (session.status !== 'waiting' || !session.statusDetail?.startsWith('permission:')) return;
        if (!showsPermissionDialog((await terminal.screen()).text)) return;
        const [asked] = await events().list({ sessionId: session.id, type: 'claude.PermissionRequest', limit: 1, newest: true });
        if (!asked) return;
        const payload = asked.payload as Record<string, unknown>;
        void askAgainOnScreen(terminal, session, str(payload.tool_name) ?? '', payload.tool_input).catch((error: unknown) =>
          ctx.log.warn({ err: error, session: session.id }, 'asking again what Claude still asks failed'),
        );
      },

      async sendText(terminal, text, submit) {
        await whenReady(terminal);
        await (submit ? submitPrompt(terminal, text, submissions) : typeText(terminal, text, { submit: false }));
      },

      async sendKeys(terminal, keys) {
        await terminal.pressKeys(keys);
      },

      async stopSession(terminal) {
        await stopClaude(terminal);
      },

      async transcript(session) {
        const file = transcriptHere(session);
        if (!file) throw new CodePiperError('no_transcript', `session ${session.id.slice(0, 8)} has no known transcript`);
        return readTranscript(file);
      },

      // A mention, and a space that closes Claude's file completion: Claude reads the image with the prompt.
      imageReference: (file) => `@${file} `,

      async switchModel(terminal, session, model) {
        // The config dir Claude was started with (see startSession): its settings.json is the user's own.
        const claudeEnv = (typeof session.metadata.claudeEnv === 'object' && session.metadata.claudeEnv !== null ? session.metadata.claudeEnv : {}) as Record<string, unknown>;
        const configDir = str(claudeEnv.CLAUDE_CONFIG_DIR) ?? ctx.env.CLAUDE_CONFIG_DIR ?? path.join(ctx.env.HOME ?? os.homedir(), '.claude');
        await switchModelForSession(terminal, model, { configDir, log: ctx.log });
      },
    };

    ctx.services.get(providerRegistryRef).register(provider);
    ctx.services.get(historyImportersRef).register(claudeHistory);

    ctx.api.handle(claudeCodeEndpoints.hook, async ({ params, headers, body, signal }) => {
      await secrets.check(params.session, bearerToken(headers));
      const session = await directory().resolve(params.session);
      const name = body.hook_event_name;
      if (!HOOK_EVENT_NAME.test(name)) throw new CodePiperError('invalid_request', `unexpected hook_event_name ${JSON.stringify(name)}`);
      const payload = body as Record<string, unknown>;
      const host = sessionHost(session);
      // What its forwarder kept while this daemon was away, its host cut off, or the daemon too slow to answer, comes first.
      await catchUp(session, headers[OFFLINE_KEPT_HEADER] === 'yes');
      await events().append({ sessionId: session.id, type: `claude.${name}`, payload: loggedHookPayload(payload) }, SOURCE);

      const patch: Record<string, unknown> = {};
      const transcriptPath = str(payload.transcript_path);
      if (transcriptPath && path.isAbsolute(transcriptPath) && transcriptPath !== session.metadata.transcriptPath) {
        patch.transcriptPath = transcriptPath;
        if (host !== undefined) patch.transcriptCopy = await copyFromHost(host, session.id, transcriptPath);
      }
      const claudeSessionId = str(payload.session_id);
      if (claudeSessionId && claudeSessionId !== session.metadata.claudeSessionId) patch.claudeSessionId = claudeSessionId;
      if (Object.keys(patch).length > 0) await directory().updateMetadata(session.id, patch);
      if (!isFinished(session.status)) {
        const file = transcriptHere({ metadata: { ...session.metadata, ...patch } });
        if (file) void tailer.follow(session.id, file);
      }
      // A subagent's transcript, beside its session's: on a host it is copied too, into the subagents' folder the tailer watches.
      const agentTranscript = str(payload.agent_transcript_path);
      if (host !== undefined && agentTranscript && path.isAbsolute(agentTranscript)) {
        void copyFromHost(host, session.id, agentTranscript).catch((error: unknown) => ctx.log.warn({ err: error, session: session.id }, 'could not copy a subagent’s transcript from its host'));
      }

      const toolName = str(payload.tool_name) ?? '';
      const setStatus = (status: 'working' | 'idle' | 'waiting', detail: string | null = null) => directory().setStatus(session.id, status, detail);
      const ended = turnEnded(name, payload);
      if (ended) {
        await directory().endTurn(session.id, ended);
        // Claude may write the turn's last transcript line just after this hook.
        setTimeout(() => void tailer.poke(session.id), 500).unref();
      }
      switch (name) {
        case 'SessionStart':
          await setStatus('idle');
          starting.get(session.id)?.resolve();
          break;
        case 'UserPromptSubmit':
          submissions.submitted(session.id);
          await setStatus('working');
          break;
        case 'PreToolUse':
          await setStatus('working');
          break;
        case 'PostToolUse':
          await setStatus('working');
          await ctx.hooks.call(toolCallRan, { session, toolName, toolInput: payload.tool_input });
          break;
        case 'PermissionRequest':
          await setStatus('waiting', `permission: ${describeToolCall(toolName, payload.tool_input)}`);
          break;
        case 'Notification':
          if (payload.notification_type === 'permission_prompt') {
            const current = await directory().resolve(session.id);
            if (current.status !== 'waiting') await setStatus('waiting', str(payload.message) ?? 'permission');
          }
          break;
        default:
          break;
      }

      if (name !== 'PreToolUse' && name !== 'PermissionRequest') return {};
      let verdict: ToolCallVerdict | undefined;
      try {
        const current = await directory().resolve(session.id);
        const stage = name === 'PreToolUse' ? 'check' : 'prompt';
        // Claude shows its own prompt while a PermissionRequest hook runs; an answer there ends the hook.
        verdict = await ctx.hooks.call(toolPermission, { session: current, stage, toolName, toolInput: payload.tool_input, signal });
      } catch (error) {
        // A failing tap must not let auto mode decide alone: the person is asked (by Claude's own prompt).
        ctx.log.error({ err: error, session: session.id }, 'the agents.toolPermission hook failed; the person is asked');
        verdict = { decision: 'ask', reason: 'CodePiper could not decide: ask the person' };
      }
      // Claude ended the hook: its prompt was answered no (or Esc) in the terminal.
      if (name === 'PermissionRequest' && signal.aborted) await interruptedAtPrompt(session.id);
      return hookReply(name, verdict);
    }, {
      // A hook may carry 64 MiB: its secret is checked before the body is read.
      admit: ({ params, headers }) => secrets.check(params.session ?? '', bearerToken(headers)),
    });

    /**
     * The events a session's forwarder (here or on its host) kept while it
     * could not reach this daemon (the daemon down, the host cut off), taken
     * in once, oldest first: recorded, a tool call audited, a turn's end
     * ended. Done as this daemon starts, at the session's first hook since
     * (if that start could not reach its host), at any hook whose forwarder
     * says it keeps some, and when its host is reached again.
     */
    const caughtUp = new Map<string, Promise<void>>();
    const catchUp = (session: SessionRecord, again = false): Promise<void> => {
      if (again) caughtUp.delete(session.id);
      let done = caughtUp.get(session.id);
      if (!done) {
        done = takeInOffline(session).catch((error: unknown) => {
          caughtUp.delete(session.id);
          ctx.log.warn({ err: error, session: session.id }, 'could not take in what its hook forwarder kept');
        });
        caughtUp.set(session.id, done);
      }
      return done;
    };
    const takeInOffline = async (session: SessionRecord): Promise<void> => {
      const host = sessionHost(session);
      const settings = str(session.metadata.settingsPath);
      if (!settings) return;
      const file = offlineFile(path.posix.dirname(settings));
      const kept = offlineEvents(await (host === undefined ? takeFile(file) : (await placeOf(host)).take(file)));
      await auditOffline(session, offlineToolCalls(kept));
      for (const payload of kept) {
        const name = str(payload.hook_event_name);
        if (!name || !HOOK_EVENT_NAME.test(name)) continue;
        // One the daemon got, whose answer the cut kept from the forwarder, is there already.
        const logged = loggedHookPayload(payload);
        const loggedText = JSON.stringify(logged);
        const recent = await events().list({ sessionId: session.id, type: `claude.${name}`, limit: 50, newest: true });
        if (recent.some((event) => JSON.stringify(event.payload) === loggedText)) continue;
        await events().append({ sessionId: session.id, type: `claude.${name}`, payload: logged }, SOURCE);
        const ended = turnEnded(name, payload);
        if (ended) await directory().endTurn(session.id, ended);
      }
    };

    /** What the session's Claude did with tool calls the daemon did not answer (down, or hanging): its forwarder had the person asked every time. */
    const auditOffline = async (session: SessionRecord, calls: readonly OfflineToolCall[]): Promise<void> => {
      for (const call of calls) {
        const outcome = call.ran ? ('allow' as const) : ('ask' as const);
        const reason = `asked in the terminal without the daemon: ${call.ran ? 'it ran' : 'no sign that it ran'}`;
        await ctx.hooks.call(toolCallOffline, { session, toolName: call.toolName, toolInput: call.toolInput, outcome, reason });
      }
    };

    return {
      async start() {
        // A host reached again: what Claude did there meanwhile is taken in at once, not at its next hook.
        const unsubscribeStatus = events().subscribe({ type: 'session.status' }, (event) => {
          if (!event.sessionId || (event.payload as { from?: unknown }).from !== 'unreachable') return;
          void directory()
            .resolve(event.sessionId)
            .then((session) => (session.provider === PROVIDER_ID ? catchUp(session, true) : undefined));
        });
        const unsubscribeExits = events().subscribe({ type: 'session.exited' }, (event) => {
          if (!event.sessionId) return;
          starting.delete(event.sessionId);
          caughtUp.delete(event.sessionId);
          void tailer.close(event.sessionId);
        });
        // Its files (settings, hook forwarder and secret, kept events) are in its session directory, which goes with it.
        const unsubscribeRemovals = events().subscribe({ type: 'session.removed' }, (event) => {
          if (event.sessionId) secrets.forget(event.sessionId);
        });
        unsubscribe = () => {
          unsubscribeStatus();
          unsubscribeExits();
          unsubscribeRemovals();
        };
        for (const session of await directory().list({ finished: 0 })) {
          if (session.provider !== PROVIDER_ID) continue;
          const file = transcriptHere(session);
          if (file) await tailer.follow(session.id, file);
          // What Claude did while this daemon was down is taken in now, not at its next hook: a turn that ended meanwhile ends here.
          // A host is not waited for (it may be unreachable): its catch-up is tried again at a hook, or when the host is reached.
          if (sessionHost(session) === undefined) await catchUp(session);
          else void catchUp(session);
        }
      },
      stop() {
        unsubscribe?.();
        tailer.closeAll();
      },
    };
  },
});

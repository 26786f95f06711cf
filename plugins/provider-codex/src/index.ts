import os from 'node:os';
import path from 'node:path';
import * as Type from '@sinclair/typebox';
import { badRequest, bearerToken, CodePiperError, definePlugin } from '@codepiper/sdk';
import { codexEndpoints } from '@codepiper/codex-contract';
import { eventLogRef } from '@codepiper/events-contract';
import { FORWARDER_DIGEST, hookSecretHash, HookSecretCheck, loggedHookPayload, OFFLINE_KEPT_HEADER, refreshForwarder, takeOfflineToolCalls } from '@codepiper/sessions-contract/agent-hooks';
import { isFinished, providerRegistryRef, sessionDirectoryRef, typeText, waitForScreen, type SessionProvider, type SessionTerminal, type SessionRecord, type TranscriptEntry } from '@codepiper/sessions-contract';
import { toolCallOffline, toolCallRan, toolPermission, type ToolCallVerdict } from '@codepiper/policies-contract';
import { usageLedgerRef, historyImportersRef } from '@codepiper/analytics-contract';
import type { ClaudeHookReply } from '@codepiper/claude-code-contract';
import { FALLBACK_REFUSAL, forwarderScriptOptions, sessionDir, writeCodexHooks } from './hooks.js';
import { migrations } from './migrations.js';
import { codexHistory, readRollout, transcriptOf } from './rollout.js';
import { findRollout, SessionTracker, SOURCE, threadMarkers } from './tracker.js';

export { codexHistory, factOf, parseLine, RolloutParser, transcriptOf, usageDelta, type CodexUsage } from './rollout.js';

const ProviderCodexConfig = Type.Object({
  codex_bin: Type.Optional(Type.String({ minLength: 1, description: 'The codex program (default: $CODEPIPER_CODEX_BIN, else `codex` on PATH)' })),
  thread_discovery_timeout_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'How long to wait for Codex to reveal its session id after launch' }),
  hook_timeout_s: Type.Integer({
    minimum: 1,
    maximum: 300,
    default: 30,
    description: 'How long a hook waits for the daemon before it gives up (a PreToolUse is then refused); a tool call’s hooks wait for a person as long as Codex does',
  }),
});

const CodexOptions = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/\\[\\]-]+$', description: 'The model the agent runs' })),
    resume: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F-]{36}$', description: 'Continue the agent’s own conversation by its session id' })),
  },
  { additionalProperties: false },
);

const PLUGIN = 'provider-codex';
const PROVIDER_ID = 'codex';
const TYPE_PAUSE_MS = 300;
const READY_TEXT = /Ask Codex to do anything/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Codex's answer to a hook: a PreToolUse can only refuse; a PermissionRequest allows or refuses; `{}` leaves Codex to itself. */
function hookReply(event: string, verdict: ToolCallVerdict | undefined): ClaudeHookReply {
  if (!verdict || verdict.decision === 'ask') return {};
  if (event === 'PreToolUse') {
    return verdict.decision === 'deny' ? { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.reason } } : {};
  }
  return { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: verdict.decision, message: verdict.reason } } };
}

/** A call as Codex names it in one turn, to recognise its PermissionRequest after its PreToolUse. */
const callKey = (payload: Record<string, unknown>): string => JSON.stringify([payload.turn_id ?? null, payload.tool_name ?? null, payload.tool_input ?? null]);

export default definePlugin({
  name: PLUGIN,
  api: '^1.0.0',
  description: 'The `codex` provider: OpenAI Codex CLI with turn notifications, usage and transcripts from its rollout',
  uses: [providerRegistryRef, sessionDirectoryRef, eventLogRef, usageLedgerRef, historyImportersRef],
  config: ProviderCodexConfig,
  register(ctx) {
    const pluginDir = () => ctx.paths.pluginData(PLUGIN);
    const trackers = new Map<string, SessionTracker>();
    const directory = () => ctx.services.get(sessionDirectoryRef);
    const secrets = new HookSecretCheck(PROVIDER_ID, directory);
    const events = () => ctx.services.get(eventLogRef);
    const deps = {
      get store() {
        return ctx.store;
      },
      get events() {
        return events();
      },
      directory,
      ledger: () => ctx.services.get(usageLedgerRef),
      log: ctx.log,
    };
    /** Sessions started recently, until their composer is seen: typing earlier would be lost. */
    const warmingUp = new Set<string>();
    let unsubscribe: (() => void) | undefined;

    const codexHomeOf = (sessionEnv: Readonly<Record<string, string>>): string =>
      path.resolve(sessionEnv.CODEX_HOME || ctx.env.CODEX_HOME || path.join(ctx.env.HOME || os.homedir(), '.codex'));

    const claimed = (id: string) => [...trackers.values()].some((t) => t.threadId === id);

    async function waitUntilReady(terminal: SessionTerminal): Promise<void> {
      if (!warmingUp.has(terminal.sessionId)) return;
      const tracker = trackers.get(terminal.sessionId);
      await tracker?.thread(ctx.config.thread_discovery_timeout_ms);
      // Codex creates its marker file before the composer is drawn.
      await waitForScreen(terminal, READY_TEXT, 15_000, 200);
      warmingUp.delete(terminal.sessionId);
    }

    /** The codex program: config.yaml's codex_bin, else $CODEPIPER_CODEX_BIN, else `codex` on PATH. */
    const codexBin = (): string => ctx.config.codex_bin || ctx.env.CODEPIPER_CODEX_BIN || 'codex';

    const provider: SessionProvider = {
      id: PROVIDER_ID,
      description: 'OpenAI Codex CLI',
      options: CodexOptions,
      resumable: true,
      program: () => ({
        command: codexBin(),
        hint: "install Codex (npm i -g @openai/codex), or point at it with CODEPIPER_CODEX_BIN=/path/to/codex in the daemon's environment or codex_bin under provider-codex in config.yaml",
      }),
      async startSession(input, launcher) {
        // Its rollouts (usage, resume) are read from this machine's CODEX_HOME.
        if (launcher.place.host !== null) throw badRequest(`Codex sessions run on this machine only, not on a host (${launcher.place.host}): use claude-code or shell there`);
        const bin = codexBin();
        const previous = input.resume?.metadata;
        const codexHome = typeof previous?.codexHome === 'string' ? previous.codexHome : codexHomeOf(input.env);
        const model = typeof input.options.model === 'string' ? input.options.model : typeof previous?.model === 'string' ? previous.model : undefined;
        const resumeId = typeof previous?.codexSessionId === 'string' ? previous.codexSessionId : typeof input.options.resume === 'string' ? input.options.resume : undefined;
        if (input.resume && !resumeId) throw new CodePiperError('not_resumable', 'this Codex session never revealed its session id; it cannot be resumed');
        const hooks = await writeCodexHooks({ place: launcher.place, plugin: PLUGIN, sessionId: input.sessionId, quickTimeoutS: ctx.config.hook_timeout_s });
        const keyHash = hookSecretHash(hooks.secret);
        // Before Codex runs: its first hook may come before the launch returns, and a resume's secret is new.
        secrets.launched(input.sessionId, keyHash);
        const argv = [
          bin,
          ...(resumeId ? ['resume', resumeId] : []),
          '--no-alt-screen',
          '--no-daemon',
          ...(model ? ['-m', model] : []),
          ...hooks.args,
          ...input.args,
        ];
        const before = await threadMarkers(codexHome);
        const tracker = new SessionTracker(input.sessionId, codexHome, deps);
        await trackers.get(input.sessionId)?.close();
        trackers.set(input.sessionId, tracker);
        await tracker.init(model);
        warmingUp.add(input.sessionId);
        try {
          await launcher.launch({
            argv,
            // A resumed session gets no environment from its request: keep it in the same CODEX_HOME.
            ...(input.resume ? { env: { CODEX_HOME: codexHome } } : {}),
            metadata: { codexHome, hookKeyHash: keyHash, [FORWARDER_DIGEST]: hooks.forwarderDigest, ...(model ? { model } : {}), ...(resumeId ? { codexSessionId: resumeId } : {}) },
          });
        } catch (error) {
          trackers.delete(input.sessionId);
          warmingUp.delete(input.sessionId);
          await tracker.close();
          throw error;
        }
        if (resumeId) tracker.setThread(resumeId, true);
        else tracker.discoverThread(before, claimed, ctx.config.thread_discovery_timeout_ms);
      },
      async adopted(_terminal, session, where) {
        void where()
          .then((place) => refreshForwarder(session, forwarderScriptOptions(place, PLUGIN, session.id), { place, sessions: directory() }))
          .catch((error: unknown) => ctx.log.warn({ err: error, session: session.id }, 'could not bring an adopted session’s hook forwarder up to date'));
      },
      async sendText(terminal, text, submit) {
        await waitUntilReady(terminal);
        // Working from now: set first, or a quick turn's notify (idle) could land before it.
        if (submit) await directory().setStatus(terminal.sessionId, 'working');
        await typeText(terminal, text, { submit, settleMs: TYPE_PAUSE_MS });
      },
      async sendKeys(terminal, keys) {
        await terminal.pressKeys(keys);
      },
      async stopSession(terminal) {
        // Idle with an empty composer, one ctrl+c quits; a second one covers a
        // running turn (interrupted) or a draft (cleared) first.
        await terminal.pressKeys(['ctrl+c']);
        await sleep(700);
        await terminal.pressKeys(['ctrl+c']).catch(() => undefined);
      },
      async transcript(session): Promise<TranscriptEntry[]> {
        const tracker = trackers.get(session.id);
        let file = tracker?.rolloutPath;
        if (!file) {
          const row = await ctx.store.get<{ path: string | null; codex_home: string; thread_id: string | null }>('SELECT path, codex_home, thread_id FROM codex_rollouts WHERE session_id = ?', [session.id]);
          file = row?.path ?? (row?.thread_id ? await findRollout(row.codex_home, row.thread_id) : undefined);
        }
        if (!file) return [];
        return transcriptOf(await readRollout(file));
      },
    };

    ctx.migrations(migrations);
    ctx.services.get(providerRegistryRef).register(provider);
    ctx.services.get(historyImportersRef).register(codexHistory);

    /** Calls a person allowed at their PreToolUse, per session: Codex's own prompt for them is answered the same. */
    const allowedCalls = new Map<string, Set<string>>();

    /**
     * The calls the session's forwarder answered itself (refused, or let run) while it
     * could not ask this daemon, audited once: at daemon start, and at a hook whose
     * forwarder says it keeps some (the daemon was slower than the hook's timeout).
     */
    const auditOffline = async (session: SessionRecord): Promise<void> => {
      for (const call of await takeOfflineToolCalls(sessionDir(pluginDir(), session.id))) {
        await ctx.hooks.call(toolCallOffline, { session, toolName: call.toolName, toolInput: call.toolInput, outcome: call.ran ? 'allow' : 'deny', reason: call.ran ? 'ran without the daemon' : FALLBACK_REFUSAL });
      }
    };

    ctx.api.handle(codexEndpoints.hook, async ({ params, headers, body, signal }) => {
      await secrets.check(params.session, bearerToken(headers));
      const session = await directory().resolve(params.session);
      if (headers[OFFLINE_KEPT_HEADER] === 'yes') await auditOffline(session);
      const name = body.hook_event_name;
      const payload = body as Record<string, unknown>;
      await events().append({ sessionId: session.id, type: `codex.${name}`, payload: loggedHookPayload(payload) }, SOURCE);
      if (isFinished(session.status)) return {};
      const toolName = str(payload.tool_name) ?? '';
      switch (name) {
        case 'UserPromptSubmit':
          await directory().setStatus(session.id, 'working', null);
          return {};
        case 'PostToolUse':
          await directory().setStatus(session.id, 'working', null);
          await ctx.hooks.call(toolCallRan, { session, toolName, toolInput: payload.tool_input });
          return {};
        case 'Stop':
          allowedCalls.delete(session.id);
          await directory().endTurn(session.id, { lastMessage: str(payload.last_assistant_message) ?? null });
          void trackers.get(session.id)?.refresh();
          return {};
        case 'PreToolUse':
        case 'PermissionRequest':
          return hookReply(name, await decide(session, name, payload, signal));
        default:
          return {};
      }
    }, {
      // A hook may carry 64 MiB: its secret is checked before the body is read.
      admit: ({ params, headers }) => secrets.check(params.session ?? '', bearerToken(headers)),
    });

    async function decide(session: SessionRecord, event: 'PreToolUse' | 'PermissionRequest', payload: Record<string, unknown>, signal: AbortSignal): Promise<ToolCallVerdict | undefined> {
      const allowed = allowedCalls.get(session.id) ?? new Set<string>();
      if (event === 'PermissionRequest' && allowed.has(callKey(payload))) return { decision: 'allow', reason: 'allowed before it ran' };
      let verdict: ToolCallVerdict | undefined;
      try {
        verdict = await ctx.hooks.call(toolPermission, { session, stage: 'prompt', toolName: str(payload.tool_name) ?? '', toolInput: payload.tool_input, signal });
      } catch (error) {
        // Never let a failing tap become a run: a PreToolUse is refused, a PermissionRequest left to Codex's own prompt.
        ctx.log.error({ err: error, session: session.id }, 'the agents.toolPermission hook failed');
        verdict = { decision: 'deny', reason: 'CodePiper could not decide: not run' };
      }
      if (signal.aborted) {
        // Codex ended the hook: the turn was interrupted in the terminal.
        await directory().endTurn(session.id, { lastMessage: null, error: 'interrupted in the terminal while a tool call waited' });
      } else if (verdict?.decision === 'allow' && event === 'PreToolUse') {
        allowedCalls.set(session.id, allowed.add(callKey(payload)));
      }
      return verdict;
    }

    return {
      async start() {
        const unsubscribeExits = events().subscribe({ type: 'session.exited' }, (event) => {
          if (event.sessionId) allowedCalls.delete(event.sessionId);
          const tracker = event.sessionId ? trackers.get(event.sessionId) : undefined;
          if (!tracker || !event.sessionId) return;
          trackers.delete(event.sessionId);
          warmingUp.delete(event.sessionId);
          void tracker.close();
        });
        // Its hook forwarder and secret are in its session directory, which goes with it.
        const unsubscribeRemovals = events().subscribe({ type: 'session.removed' }, (event) => {
          if (event.sessionId) secrets.forget(event.sessionId);
        });
        unsubscribe = () => {
          unsubscribeExits();
          unsubscribeRemovals();
        };
        for (const session of await directory().list({ finished: 0 })) {
          if (session.provider !== PROVIDER_ID) continue;
          await auditOffline(session);
          const tracker = new SessionTracker(session.id, typeof session.metadata.codexHome === 'string' ? session.metadata.codexHome : codexHomeOf({}), deps);
          if (await tracker.restore()) trackers.set(session.id, tracker);
          else if (typeof session.metadata.codexSessionId === 'string') {
            await tracker.init(undefined);
            trackers.set(session.id, tracker);
            tracker.setThread(session.metadata.codexSessionId, true);
          }
        }
      },
      async stop() {
        unsubscribe?.();
        await Promise.all([...trackers.values()].map((t) => t.close()));
        trackers.clear();
      },
    };
  },
});

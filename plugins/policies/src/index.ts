import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { approvalEndpoints, policySetsRef, describeToolCall, policyEndpoints, toolCallOffline, toolCallRan, toolPermission } from '@codepiper/policies-contract';
import { auditLogRef } from '@codepiper/audit-contract';
import { type CodePiperEvent, eventLogRef } from '@codepiper/events-contract';
import { badRequest, definePlugin, Stage, describeOrigin } from '@codepiper/sdk';
import { checkInput, governSession, sessionAbandoned, sessionDirectoryRef, TURN_ENDED_EVENT } from '@codepiper/sessions-contract';
import * as Type from '@sinclair/typebox';
import { Approvals } from './approvals.js';
import { ControlPlaneGuard } from './control-plane.js';
import { SHELL_FIELDS } from './engine.js';
import { migrations } from './migrations.js';
import { typedText } from './typed-text.js';
import { PolicyService } from './service.js';

export { PolicyEngine, PolicyError, validateMatch, describeRule, isAction, ACTIONS, SHELL_FIELDS, type Decision, type PolicyAction, type PolicyLike, type ToolCall } from './engine.js';
export { parseRule, type ParsedRule } from './rule.js';
export { shellCommands, type ShellCommand } from './shell-commands.js';
export { loadBashGrammar } from './bash-grammar.js';
export { globToRegExp } from './glob.js';
export { PolicyService } from './service.js';
export { ControlPlaneGuard, CONTROL_PLANE_GUARD } from './control-plane.js';

export const PoliciesConfig = Type.Object({
  default_action: Type.Union([Type.Literal('ask'), Type.Literal('deny')], { default: 'ask', description: 'What happens when no policy matches a call' }),
});

const escapeGlob = (text: string): string => text.replace(/[*?\\]/g, '\\$&');

/** The args of a remembered approval: the exact command, path or URL that was approved. */
function rememberedArgs(tool: string, input: unknown): Record<string, string> | undefined {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  for (const name of [SHELL_FIELDS[tool], 'file_path', 'notebook_path', 'path', 'url']) {
    const value = name === undefined ? undefined : fields[name];
    if (typeof value === 'string' && name !== undefined) return { [name]: escapeGlob(value) };
  }
  return undefined;
}


/** The guard's view of this daemon: its home and socket as given and as they really are, `~`, and tmux's `-L` directory. */
function controlPlaneGuard(paths: { home: string; socket: string }, env: Readonly<Record<string, string | undefined>>): ControlPlaneGuard {
  const real = (p: string): string | undefined => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const aliases = [real(paths.home), real(path.dirname(paths.socket))].filter((p): p is string => p !== undefined);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return new ControlPlaneGuard({ home: paths.home, socket: paths.socket, aliases, userHome: env.HOME || os.homedir(), tmuxDir: path.join(env.TMUX_TMPDIR || '/tmp', `tmux-${uid}`) });
}

/** The tool name input policies use: matched on the typed text (field `text`). */
export const TERMINAL_INPUT = 'terminal_input';

export default definePlugin({
  name: 'policies',
  api: '^1.0.0',
  description: 'Permission policies: decide Claude Code tool calls and terminal input by rules, each decision recorded in the audit trail',
  provides: [policySetsRef],
  uses: [auditLogRef, eventLogRef, sessionDirectoryRef],
  config: PoliciesConfig,
  register(ctx) {
    let service: PolicyService | undefined;
    let approvals: Approvals | undefined;
    let unsubscribe: (() => void)[] = [];
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const runningApprovals = (): Approvals => {
      if (!approvals) throw new Error('the policies plugin has not started');
      return approvals;
    };
    const running = (): PolicyService => {
      if (!service) throw new Error('the policies plugin has not started');
      return service;
    };

    ctx.migrations(migrations);

    ctx.hooks.tap(
      checkInput,
      async ({ session, kind, input, via }) => {
        if (kind !== 'text') return undefined;
        const policies = running();
        // Only input some policy is about is decided (and audited); interactive typing stays cheap otherwise.
        if (!policies.concerns(TERMINAL_INPUT, session.id)) return undefined;
        const decision = await policies.decide({ tool: TERMINAL_INPUT, input: { text: typedText(input) }, sessionId: session.id, source: `sessions.checkInput:${via}` });
        // Nobody can be asked about typed input yet: only a deny refuses it.
        return decision.decision === 'deny' ? { allow: false as const, reason: decision.reason } : undefined;
      },
      { stage: Stage.EARLY },
    );

    ctx.hooks.tap(toolPermission, async ({ session, stage, toolName, toolInput, signal }) => {
      // A provider asks again, as the daemon starts, what its agent still shows: maybe before this plugin started.
      await started;
      const policies = running();
      const request = { tool: toolName, input: toolInput, sessionId: session.id, cwd: session.cwd, source: `${session.provider}.${stage}` };
      const { decision, durationMs } = await policies.evaluate(request);
      if (decision.decision === 'ask' && stage === 'prompt') {
        // A policy or the default said ask and the agent asks the person: a question to every client until it is answered.
        const started = performance.now();
        const sessions = ctx.services.get(sessionDirectoryRef);
        if (session.status !== 'waiting') await sessions.setStatus(session.id, 'waiting', `permission: ${describeToolCall(toolName, toolInput)}`);
        const approval = await runningApprovals().ask({ sessionId: session.id, tool: toolName, input: toolInput, reason: decision.reason, policy: decision.policy }, signal);
        const waited = durationMs + performance.now() - started;
        const by = approval.answeredBy ?? 'unknown';
        if (approval.status === 'approved' || approval.status === 'denied') {
          const action = approval.status === 'approved' ? ('allow' as const) : ('deny' as const);
          const reason = approval.answer ?? `${approval.status} by ${by}`;
          await policies.record(request, decision, { answeredBy: by, durationMs: waited, decision: action, reason });
          // Answered from a client, the agent goes on at once (in the terminal, its own hooks tell).
          if (by !== 'terminal') await sessions.setStatus(session.id, 'working', null);
          return { decision: action, reason };
        }
        await policies.record(request, decision, { answeredBy: by, durationMs: waited });
        return undefined;
      }
      await policies.record(request, decision, { answeredBy: decision.policy ? 'policy' : 'default', durationMs });
      // Every ask, the default's too, is passed on explicitly: left unsaid, an agent's auto mode would decide alone.
      return { decision: decision.decision, reason: decision.reason };
    });
    ctx.hooks.tap(toolCallRan, ({ session, toolName, toolInput }) => runningApprovals().ran(session.id, toolName, toolInput));
    ctx.hooks.tap(toolCallOffline, async ({ session, toolName, toolInput, outcome, reason }) => {
      const policies = running();
      const request = { tool: toolName, input: toolInput, sessionId: session.id, cwd: session.cwd, source: `${session.provider}.offline` };
      await policies.record(request, (await policies.evaluate(request)).decision, { answeredBy: 'daemon down', durationMs: 0, decision: outcome, reason });
    });

    ctx.api.handle(approvalEndpoints.list, async ({ query }) => ({ approvals: await runningApprovals().list(query.all ?? false) }));
    ctx.api.handle(approvalEndpoints.approve, async ({ params, body, origin }) =>
      runningApprovals().answer(params.id, 'approved', describeOrigin(origin), null, body.remember
        ? async () => {
            const pending = await runningApprovals().get(params.id);
            const asking = pending.policyId ? running().list().find((p) => p.id === pending.policyId) : undefined;
            if (asking?.builtin) throw badRequest(`${asking.name} asks every time, before any allow policy: --remember cannot make an exception to it (approve without --remember)`);
            const args = rememberedArgs(pending.tool, pending.input);
            const created = await running().create({
              action: 'allow',
              tool: pending.tool,
              ...(args ? { args } : {}),
              priority: (asking?.priority ?? 0) + 1,
              reason: `remembered approval ${pending.id.slice(0, 8)} by ${describeOrigin(origin)}`,
              name: `remembered-${pending.id.slice(0, 8)}`,
            });
            return created.id;
          }
        : undefined),
    );
    ctx.api.handle(approvalEndpoints.deny, ({ params, body, origin }) => runningApprovals().answer(params.id, 'denied', describeOrigin(origin), body.reason ?? null));

    ctx.api.handle(policyEndpoints.list, async ({ query }) => {
      const session = query.session === undefined ? undefined : await resolveSession(query.session);
      return { policies: running().list(session) };
    });
    ctx.api.handle(policyEndpoints.create, ({ body }) => running().create(body));
    ctx.api.handle(policyEndpoints.show, async ({ params }) => running().get(params.id));
    ctx.api.handle(policyEndpoints.update, ({ params, body }) => running().update(params.id, body));
    ctx.api.handle(policyEndpoints.remove, async ({ params }) => {
      await running().remove(params.id);
      return { ok: true as const };
    });
    const setEnabled = async (ref: string, enabled: boolean, origin: Parameters<typeof describeOrigin>[0]) => {
      const policy = await running().setEnabled(ref, enabled);
      if (policy.builtin) {
        // Turning a built-in guard off is a security change: a line in the audit trail and the log.
        const reason = `${policy.name} ${enabled ? 'enabled' : 'disabled'}`;
        await ctx.services.get(auditLogRef).record({ action: 'policies.builtin', outcome: 'allow', reason, actor: describeOrigin(origin), details: { policy: policy.name, enabled } }, 'policies');
        if (!enabled) ctx.log.warn({ policy: policy.name }, 'a built-in policy was disabled');
      }
      return policy;
    };
    ctx.api.handle(policyEndpoints.enable, ({ params, origin }) => setEnabled(params.id, true, origin));
    ctx.api.handle(policyEndpoints.disable, ({ params, origin }) => setEnabled(params.id, false, origin));
    ctx.api.handle(policyEndpoints.test, ({ body }) => running().test(body.tool, body.args, body.session));
    ctx.api.handle(policyEndpoints.import, ({ body }) => running().importSet(body.source, body.name, body.set));
    ctx.api.handle(policyEndpoints.export, async () => running().exportSet());
    ctx.api.handle(policyEndpoints.defaultAction, async () => running().defaultAction());
    ctx.api.handle(policyEndpoints.setDefaultAction, ({ body, origin }) => running().setDefaultAction(body.action, describeOrigin(origin)));
    /** Tells the timeline (and warns in the log) that a session's bypass began or ended. */
    const announceBypass = async (sessionId: string, on: boolean, by: string): Promise<void> => {
      await ctx.services.get(eventLogRef).append({ sessionId, type: on ? 'policy.bypassed' : 'policy.bypass_ended', payload: { by } }, 'policies');
      if (on) ctx.log.warn({ session: sessionId }, 'a session runs without policies');
    };
    const setBypass = async (ref: string, on: boolean, origin: Parameters<typeof describeOrigin>[0]) => {
      const { bypass, changed } = await running().setBypass(ref, on, describeOrigin(origin));
      // Told once, as audited: asking again for what already holds changes nothing.
      if (changed) await announceBypass(bypass.sessionId, on, describeOrigin(origin));
      return bypass;
    };
    ctx.hooks.tap(governSession, async (governance) => {
      const { bypassed } = await running().govern(governance);
      if (bypassed) await announceBypass(governance.sessionId, true, governance.by);
      return { governed: true };
    });
    ctx.hooks.tap(sessionAbandoned, ({ sessionId }) => running().abandoned(sessionId));
    ctx.api.handle(policyEndpoints.sessionSets, async ({ params }) => {
      const sessionId = await resolveSession(params.id);
      return { sessionId, sets: running().setsOf(sessionId) };
    });
    ctx.api.handle(policyEndpoints.attachSets, ({ params, body, origin }) => running().attachSetsTo(params.id, body.sets, describeOrigin(origin)));
    ctx.services.provide(policySetsRef, () => ({ check: (sets) => running().checkSets(sets) }));
    ctx.api.handle(policyEndpoints.bypass, ({ params, origin }) => setBypass(params.id, true, origin));
    ctx.api.handle(policyEndpoints.endBypass, ({ params, origin }) => setBypass(params.id, false, origin));
    ctx.api.handle(policyEndpoints.bypassed, async () => ({ bypasses: running().listBypasses() }));

    const resolveSession = async (idOrPrefix: string): Promise<string> => (await ctx.services.get(sessionDirectoryRef).resolve(idOrPrefix)).id;

    return {
      async start() {
        const events = ctx.services.get(eventLogRef);
        service = new PolicyService({
          store: ctx.store,
          audit: ctx.services.get(auditLogRef),
          defaultAction: ctx.config.default_action,
          resolveSession,
          guard: controlPlaneGuard(ctx.paths, ctx.env),
          sessionCwd: async (id) => (await ctx.services.get(sessionDirectoryRef).resolve(id)).cwd,
          recorded: (entry) => {
            void events
              .append({ sessionId: entry.sessionId, type: 'policy.decision', payload: { tool: entry.tool, decision: entry.decision, policy: entry.policyName, rule: entry.rule, reason: entry.reason, auditId: entry.id } }, 'policies')
              .catch((error: unknown) => ctx.log.error({ err: error }, 'recording a policy.decision event failed'));
          },
        });
        await service.load();
        approvals = new Approvals(ctx.store, (type, approval) => {
          void events.append({ sessionId: approval.sessionId, type, payload: approval }, 'policies').catch((error: unknown) => ctx.log.error({ err: error }, `recording ${type} failed`));
        });
        await approvals.expireStale();
        const ended = (why: 'turn ended' | 'session ended') => (event: CodePiperEvent) => {
          if (event.sessionId) void runningApprovals().endFor(event.sessionId, why).catch((error: unknown) => ctx.log.error({ err: error }, 'ending approvals failed'));
        };
        unsubscribe = [events.subscribe({ type: TURN_ENDED_EVENT }, ended('turn ended')), events.subscribe({ type: 'session.exited' }, ended('session ended'))];
        markStarted();
      },
      stop() {
        for (const off of unsubscribe) off();
        approvals?.close();
      },
    };
  },
});

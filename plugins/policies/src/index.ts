import { checkInput, claudePermission, definePlugin, eventLogRef, policyEndpoints, SDK_CONTRACT_VERSION, sessionDirectoryRef, Stage } from '@codepiper/sdk';
import { Type } from '@sinclair/typebox';
import { migrations } from './migrations.js';
import { PolicyService } from './service.js';

export { PolicyEngine, PolicyError, validateMatch, describeRule, isAction, ACTIONS, SHELL_FIELDS, type Decision, type PolicyAction, type PolicyLike, type ToolCall } from './engine.js';
export { parseRule, type ParsedRule } from './rule.js';
export { splitShellCommands } from './shell.js';
export { globToRegExp } from './glob.js';
export { PolicyService } from './service.js';

export const PoliciesConfig = Type.Object({
  default_action: Type.Union([Type.Literal('ask'), Type.Literal('deny')], { default: 'ask', description: 'What happens when no policy matches a call' }),
});

/** The tool name input policies use: matched on the typed text (field `text`). */
export const TERMINAL_INPUT = 'terminal_input';

export default definePlugin({
  name: 'policies',
  contract: SDK_CONTRACT_VERSION,
  description: 'Permission policies: decide Claude Code tool calls and terminal input by rules, and record every decision in an append-only audit trail',
  dependencies: ['events', 'sessions'],
  config: PoliciesConfig,
  register(ctx) {
    let service: PolicyService | undefined;
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
        const decision = await policies.decide({ tool: TERMINAL_INPUT, input: { text: input }, sessionId: session.id, source: `sessions.checkInput:${via}` });
        // Nobody can be asked about typed input yet: only a deny refuses it.
        return decision.decision === 'deny' ? { allow: false as const, reason: decision.reason } : undefined;
      },
      { stage: Stage.EARLY },
    );

    ctx.hooks.tap(claudePermission, async ({ session, event, toolName, toolInput }) => {
      const decision = await running().decide({ tool: toolName, input: toolInput, sessionId: session.id, source: `claude-code.${event}` });
      // `ask` from the default leaves the question to Claude's own prompt; a policy's explicit ask is passed on.
      if (decision.decision === 'ask' && !decision.policy) return undefined;
      return { decision: decision.decision, reason: decision.reason };
    });

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
    ctx.api.handle(policyEndpoints.enable, ({ params }) => running().setEnabled(params.id, true));
    ctx.api.handle(policyEndpoints.disable, ({ params }) => running().setEnabled(params.id, false));
    ctx.api.handle(policyEndpoints.test, ({ body }) => running().test(body.tool, body.args, body.session));
    ctx.api.handle(policyEndpoints.import, ({ body }) => running().importSet(body.source));
    ctx.api.handle(policyEndpoints.export, async () => running().exportSet());
    ctx.api.handle(policyEndpoints.audit, async ({ query }) => ({ entries: await running().audit(query) }));

    const resolveSession = async (idOrPrefix: string): Promise<string> => (await ctx.services.get(sessionDirectoryRef).resolve(idOrPrefix)).id;

    return {
      async start() {
        const events = ctx.services.get(eventLogRef);
        service = new PolicyService({
          store: ctx.store,
          defaultAction: ctx.config.default_action,
          resolveSession,
          recorded: (entry) => {
            void events
              .append({ sessionId: entry.sessionId, type: 'policy.decision', payload: { tool: entry.tool, decision: entry.decision, policy: entry.policyName, rule: entry.rule, reason: entry.reason, auditId: entry.id } }, 'policies')
              .catch((error: unknown) => ctx.log.error({ err: error }, 'recording a policy.decision event failed'));
          },
        });
        await service.load();
      },
    };
  },
});

import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, IsoTime, Name, Nullable, Ok, createServiceRef } from '@codepiper/sdk';

/** What a policy does to a call it matches. */
export const PolicyActionSchema = Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('ask')]);
export type PolicyActionName = Static<typeof PolicyActionSchema>;

export const PolicySchema = Type.Object({
  id: Type.String({ description: 'UUID' }),
  name: Type.String(),
  action: PolicyActionSchema,
  tool: Type.String({ description: 'Tool name, exact or glob (`mcp__*`); `terminal_input` for text typed into a session' }),
  args: Nullable(Type.Record(Type.String(), Type.String(), { description: 'Input field → glob; every field must match' })),
  rule: Nullable(Type.String({ description: 'Claude Code rule syntax, e.g. `Bash(git push:*)`, instead of tool + args' })),
  priority: Type.Integer(),
  session: Nullable(Type.String({ description: 'Full session id the policy is scoped to; null for every session' })),
  set: Nullable(Type.String({ description: 'The policy set it belongs to: it applies only to the sessions the set is attached to (start --policy-set, a workspace’s); null for every session' })),
  enabled: Type.Boolean(),
  reason: Type.String(),
  builtin: Type.Boolean({ description: 'Built into CodePiper (`builtin:control-plane-guard`): it can be disabled and enabled, not changed or deleted' }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Policy = Static<typeof PolicySchema>;

const PolicyName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' });
/** A policy set's name: a word a shell needs no quotes for. */
export const PolicySetName = Name();

/**
 * A policy to create (also one entry of an imported set). `args` values are
 * checked by the plugin, so a non-string glob gets a clear message.
 */
export const PolicyInputSchema = Type.Object(
  {
    name: Type.Optional(PolicyName),
    action: PolicyActionSchema,
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    rule: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    priority: Type.Optional(Type.Integer({ minimum: -1000000, maximum: 1000000, default: 0 })),
    session: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' })),
    set: Type.Optional(PolicySetName),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type PolicyInput = Static<typeof PolicyInputSchema>;

export const PolicyUpdateSchema = Type.Object(
  {
    name: Type.Optional(PolicyName),
    action: Type.Optional(PolicyActionSchema),
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    args: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
    rule: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 4096 }))),
    priority: Type.Optional(Type.Integer({ minimum: -1000000, maximum: 1000000 })),
    session: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
    set: Type.Optional(Nullable(PolicySetName)),
    enabled: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type PolicyUpdate = Static<typeof PolicyUpdateSchema>;

export const PolicyDecisionSchema = Type.Object({
  decision: PolicyActionSchema,
  reason: Type.String(),
  policy: Nullable(Type.Object({ id: Type.String(), name: Type.String() }, { description: 'null: the default action decided' })),
  rule: Type.String({ description: 'The rule that decided, or `default`' }),
  parts: Type.Array(
    Type.Object({ command: Type.String(), decision: PolicyActionSchema, policy: Nullable(Type.String()) }),
    { description: 'For shell commands, each command in the line and its decision' },
  ),
});
export type PolicyDecision = Static<typeof PolicyDecisionSchema>;

export const DefaultActionSchema = Type.Object({
  action: Type.Union([Type.Literal('ask'), Type.Literal('deny')]),
  source: Type.Union([Type.Literal('set'), Type.Literal('config')], { description: '`set`: by `policy default`; `config`: config.yaml (or its default, ask)' }),
});

/** The policies contract: its endpoints and the policy-sets service. Its version moves with what it promises: a major version for a change that breaks its users. */
export const POLICIES_CONTRACT = '1.0.0';

export const SessionPolicySetsSchema = Type.Object({ sessionId: Type.String(), sets: Type.Array(Type.String()) });

/** Policy sets for plugins that start sessions (workspaces): attached under the id a session will have, before it starts. */
/** Policy sets as others check them before naming one (a workspace's); a session is put under its sets by its start (`sessions.govern`). */
export interface PolicySets {
  /** Throws `unknown_policy_set` naming the first set no policy belongs to. */
  check(sets: readonly string[]): void;
}

export const policySetsRef = createServiceRef<PolicySets>('policies.sets', 'Check policy set names', POLICIES_CONTRACT);

export const PolicyBypassSchema = Type.Object({
  sessionId: Type.String(),
  bypassed: Type.Boolean(),
  since: Nullable(IsoTime),
  by: Nullable(Type.String({ description: 'Who asked: `unix:local`, `tcp:ADDRESS`' })),
});
export type PolicyBypass = Static<typeof PolicyBypassSchema>;

const PolicyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'Policy id, unique id prefix, or name' }) });

export const policyEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/policies',
    summary: 'Every policy, in the order they are considered',
    tags: ['policies'],
    query: Type.Object({ session: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
    response: Type.Object({ policies: Type.Array(PolicySchema) }),
  }),
  create: defineEndpoint({
    method: 'POST',
    url: '/policies',
    control: true,
    summary: 'Create a policy',
    tags: ['policies'],
    body: PolicyInputSchema,
    response: PolicySchema,
    status: 201,
  }),
  show: defineEndpoint({
    method: 'GET',
    url: '/policies/:id',
    summary: 'One policy',
    tags: ['policies'],
    params: PolicyParams,
    response: PolicySchema,
  }),
  update: defineEndpoint({
    method: 'PATCH',
    url: '/policies/:id',
    control: true,
    summary: 'Change a policy',
    tags: ['policies'],
    params: PolicyParams,
    body: PolicyUpdateSchema,
    response: PolicySchema,
  }),
  remove: defineEndpoint({
    method: 'DELETE',
    url: '/policies/:id',
    control: true,
    summary: 'Delete a policy',
    tags: ['policies'],
    params: PolicyParams,
    response: Ok,
  }),
  enable: defineEndpoint({
    method: 'POST',
    url: '/policies/:id/enable',
    control: true,
    summary: 'Enable a policy',
    tags: ['policies'],
    params: PolicyParams,
    response: PolicySchema,
  }),
  disable: defineEndpoint({
    method: 'POST',
    url: '/policies/:id/disable',
    control: true,
    summary: 'Disable a policy (kept, not considered)',
    tags: ['policies'],
    params: PolicyParams,
    response: PolicySchema,
  }),
  test: defineEndpoint({
    method: 'POST',
    url: '/policies/test',
    summary: 'What the policies decide for a tool call (nothing is recorded)',
    tags: ['policies'],
    body: Type.Object(
      {
        tool: Type.String({ minLength: 1, maxLength: 200 }),
        args: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The tool input' })),
        session: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' })),
      },
      { additionalProperties: false },
    ),
    response: PolicyDecisionSchema,
  }),
  import: defineEndpoint({
    method: 'POST',
    url: '/policies/import',
    control: true,
    summary: 'Import a policy set (YAML or JSON: a list, or {policies: [...]}); a policy with an existing name replaces it. All or nothing.',
    tags: ['policies'],
    body: Type.Object(
      {
        source: Type.String({ maxLength: 1048576 }),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Where it came from (a file name), for the line:column of an error' })),
        set: Type.Optional(PolicySetName),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ created: Type.Integer(), replaced: Type.Integer(), policies: Type.Array(PolicySchema) }),
  }),
  defaultAction: defineEndpoint({
    method: 'GET',
    url: '/policies/default',
    summary: 'What happens to a call no policy matches: `ask` or `deny`, and whether it was set here or by config.yaml',
    tags: ['policies'],
    response: DefaultActionSchema,
  }),
  setDefaultAction: defineEndpoint({
    method: 'PUT',
    url: '/policies/default',
    control: true,
    summary: 'Sets what happens to a call no policy matches (kept over config.yaml’s `default_action`); recorded in the audit trail',
    tags: ['policies'],
    body: Type.Object({ action: Type.Union([Type.Literal('ask'), Type.Literal('deny')]) }, { additionalProperties: false }),
    response: DefaultActionSchema,
  }),
  sessionSets: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/policy-sets',
    summary: 'The policy sets attached to a session',
    tags: ['policies'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' }) }),
    response: SessionPolicySetsSchema,
  }),
  attachSets: defineEndpoint({
    method: 'PUT',
    url: '/sessions/:id/policy-sets',
    control: true,
    summary: 'Attaches policy sets to a session (replacing its list): their policies apply to it, with every session’s. Recorded in the audit trail',
    tags: ['policies'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' }) }),
    body: Type.Object({ sets: Type.Array(PolicySetName, { maxItems: 32, uniqueItems: true }) }, { additionalProperties: false }),
    response: SessionPolicySetsSchema,
  }),
  bypass: defineEndpoint({
    method: 'PUT',
    url: '/sessions/:id/policy-bypass',
    control: true,
    summary: 'Runs one session without policies (`start --dangerous`): every call allowed, each still recorded; the built-in guards stay. Recorded in the audit trail',
    tags: ['policies'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' }) }),
    response: PolicyBypassSchema,
  }),
  endBypass: defineEndpoint({
    method: 'DELETE',
    url: '/sessions/:id/policy-bypass',
    control: true,
    summary: 'Puts a bypassed session back under the policies',
    tags: ['policies'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' }) }),
    response: PolicyBypassSchema,
  }),
  bypassed: defineEndpoint({
    method: 'GET',
    url: '/policy-bypasses',
    summary: 'The sessions running without policies',
    tags: ['policies'],
    response: Type.Object({ bypasses: Type.Array(PolicyBypassSchema) }),
  }),
  export: defineEndpoint({
    method: 'GET',
    url: '/policies/export',
    summary: 'Every policy as a shareable YAML policy set (ids and times left out)',
    tags: ['policies'],
    response: Type.Object({ yaml: Type.String(), policies: Type.Array(PolicyInputSchema) }),
  }),
};

/* ----- Remote approvals ----- */

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export const ApprovalStatusSchema = Type.Union(APPROVAL_STATUSES.map((s) => Type.Literal(s)));

/** A question a policy's `ask` put to a person, answerable from any client, pending as long as the agent waits. */
export const ApprovalSchema = Type.Object({
  id: Type.String({ description: 'UUID' }),
  sessionId: Type.String(),
  tool: Type.String(),
  input: Type.Unknown(),
  /** Why it was asked: the asking policy's reason. */
  reason: Type.String(),
  policyId: Nullable(Type.String()),
  policyName: Type.String(),
  status: ApprovalStatusSchema,
  createdAt: IsoTime,
  answeredAt: Nullable(IsoTime),
  answeredBy: Nullable(
    Type.String({ description: 'A person over `unix:local` or `tcp:ADDRESS`, `terminal` (in the agent’s own prompt), or what ended it unanswered: `turn ended`, `session ended`, `daemon stopped`' }),
  ),
  answer: Nullable(Type.String({ description: 'The reason given with a deny' })),
  rememberedPolicyId: Nullable(Type.String({ description: 'The policy `--remember` created' })),
});
export type Approval = Static<typeof ApprovalSchema>;

const ApprovalParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Approval id or unique prefix' }) });

export const approvalEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/approvals',
    summary: 'Approvals, newest first (pending only unless `all`)',
    tags: ['policies'],
    query: Type.Object({ all: Type.Optional(Type.Boolean({ default: false })) }),
    response: Type.Object({ approvals: Type.Array(ApprovalSchema) }),
  }),
  approve: defineEndpoint({
    method: 'POST',
    url: '/approvals/:id/approve',
    control: true,
    summary: 'Allow the pending call; `remember` also creates an allow policy for it',
    tags: ['policies'],
    params: ApprovalParams,
    body: Type.Object({ remember: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
    response: ApprovalSchema,
  }),
  deny: defineEndpoint({
    method: 'POST',
    url: '/approvals/:id/deny',
    control: true,
    summary: 'Deny the pending call; the reason is told to the agent',
    tags: ['policies'],
    params: ApprovalParams,
    body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
    response: ApprovalSchema,
  }),
};

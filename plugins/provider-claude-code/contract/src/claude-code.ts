import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint } from '@codepiper/sdk';

/** Options of the `claude-code` provider (`codepiper start -p claude-code --model M --permission-mode P --billing B --resume ID --trust`). */
export const ClaudeCodeOptionsSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/\\[\\]-]+$', description: 'The model the agent runs: sonnet, opus, a full model name' })),
    permissionMode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z]+$', description: 'Claude Code’s permission mode: default, acceptEdits, plan, auto, bypassPermissions...' })),
    billing: Type.Optional(
      Type.Union([Type.Literal('subscription'), Type.Literal('api')], {
        default: 'subscription',
        description: 'subscription: ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN are removed from the session; api: they are kept',
      }),
    ),
    resume: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9-]+$', description: 'Continue the agent’s own conversation by its session id' })),
    claude_bin: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'The claude program for this session (default: the configured one)' })),
    trust: Type.Optional(Type.Boolean({ description: 'Answer Claude Code\'s "trust this folder?" question with yes; without it, a first prompt is never typed into that question' })),
  },
  { additionalProperties: false },
);
export type ClaudeCodeOptions = Static<typeof ClaudeCodeOptionsSchema>;

/**
 * The largest hook event an agent's hook endpoint takes. An agent sends a file
 * it writes whole, in the call and again in the call's PostToolUse with the
 * file as it was and the diff of both: a generated file of a few hundred
 * kilobytes is a hook of megabytes. Refused, it would be left to the person
 * (a PreToolUse no policy could judge) or to the daemon's next start.
 */
export const HOOK_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** A hook's JSON exactly as Claude Code sent it on the hook's stdin. */
export const ClaudeHookPayloadSchema = Type.Object(
  {
    hook_event_name: Type.String({ minLength: 1, maxLength: 100 }),
    session_id: Type.Optional(Type.String()),
    transcript_path: Type.Optional(Type.String()),
    cwd: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type ClaudeHookPayload = Static<typeof ClaudeHookPayloadSchema> & Record<string, unknown>;

/** What a hook prints back to Claude Code: `{}` (decide nothing) or a permission decision in Claude's own contract. */
export const ClaudeHookReplySchema = Type.Object(
  {
    hookSpecificOutput: Type.Optional(
      Type.Object(
        {
          hookEventName: Type.String(),
          permissionDecision: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('ask')])),
          permissionDecisionReason: Type.Optional(Type.String()),
          decision: Type.Optional(Type.Object({ behavior: Type.Union([Type.Literal('allow'), Type.Literal('deny')]), message: Type.Optional(Type.String()) })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ClaudeHookReply = Static<typeof ClaudeHookReplySchema>;

export const claudeCodeEndpoints = {
  hook: defineEndpoint({
    method: 'POST',
    url: '/hooks/claude-code/:session',
    agents: true,
    summary:
      'A Claude Code hook event, forwarded by the session’s hook script with `Authorization: Bearer <the session’s hook secret>`; answers Claude’s hook output contract',
    tags: ['claude-code'],
    params: Type.Object({ session: Type.String({ pattern: '^[0-9a-f-]{36}$', description: 'Full session id' }) }),
    body: ClaudeHookPayloadSchema,
    bodyLimit: HOOK_BODY_LIMIT_BYTES,
    response: ClaudeHookReplySchema,
  }),
};

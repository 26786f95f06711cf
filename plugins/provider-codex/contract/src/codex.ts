import * as Type from '@sinclair/typebox';
import { defineEndpoint } from '@codepiper/sdk';
import { ClaudeHookPayloadSchema, ClaudeHookReplySchema, HOOK_BODY_LIMIT_BYTES } from '@codepiper/claude-code-contract';

/*
 * Codex CLI's command hooks (0.124 and later) take Claude Code's contract: the
 * same JSON on stdin (`hook_event_name`, `session_id`: Codex's thread,
 * `tool_name`, `tool_input`, `last_assistant_message`...) and the same
 * `hookSpecificOutput` answers, of which Codex honours a PreToolUse `deny`
 * and a PermissionRequest `allow`/`deny`.
 */
export const CodexHookPayloadSchema = ClaudeHookPayloadSchema;
export const CodexHookReplySchema = ClaudeHookReplySchema;

export const codexEndpoints = {
  hook: defineEndpoint({
    method: 'POST',
    url: '/hooks/codex/:session',
    agents: true,
    summary:
      'A Codex hook event, forwarded by the session’s hook script with `Authorization: Bearer <the session’s hook secret>`; answers Codex’s hook output contract',
    tags: ['codex'],
    params: Type.Object({ session: Type.String({ pattern: '^[0-9a-f-]{36}$', description: 'Full session id' }) }),
    body: CodexHookPayloadSchema,
    bodyLimit: HOOK_BODY_LIMIT_BYTES,
    response: CodexHookReplySchema,
  }),
};

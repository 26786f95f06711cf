import { Type, type Static } from '@sinclair/typebox';
import { defineEndpoint } from './api.js';
import { Ok } from './schemas.js';

/**
 * What Codex CLI's `notify` command receives as its last argument, as far as
 * CodePiper reads it (`agent-turn-complete`); other fields pass through.
 */
export const CodexNotificationSchema = Type.Object(
  {
    type: Type.String({ description: 'e.g. agent-turn-complete' }),
    'thread-id': Type.Optional(Type.String()),
    'turn-id': Type.Optional(Type.String()),
    cwd: Type.Optional(Type.String()),
    'last-assistant-message': Type.Optional(Type.Union([Type.String(), Type.Null()])),
    'input-messages': Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: true },
);
export type CodexNotification = Static<typeof CodexNotificationSchema>;

export const CodexNotifyBodySchema = Type.Object(
  {
    secret: Type.String({ minLength: 1, maxLength: 256, description: 'The session’s notify secret (written to its forwarder’s private files, never to argv)' }),
    notification: CodexNotificationSchema,
  },
  { additionalProperties: false },
);
export type CodexNotifyBody = Static<typeof CodexNotifyBodySchema>;

export const codexEndpoints = {
  notify: defineEndpoint({
    method: 'POST',
    url: '/hooks/codex/:session',
    summary: 'Codex `notify` forwarder: a turn of a Codex session completed (authenticated by the session’s secret)',
    tags: ['codex'],
    params: Type.Object({ session: Type.String({ minLength: 36, maxLength: 36, description: 'Full session id' }) }),
    body: CodexNotifyBodySchema,
    response: Ok,
  }),
};

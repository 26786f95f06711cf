import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

export const SessionsConfig = Type.Object(
  {
    tmux_bin: Type.String({ default: 'tmux', description: 'The tmux program' }),
    cols: Type.Integer({ minimum: 10, maximum: 1000, default: 200, description: 'Width of a new session’s terminal' }),
    rows: Type.Integer({ minimum: 5, maximum: 500, default: 50, description: 'Height of a new session’s terminal' }),
    stop_timeout_ms: Type.Integer({ minimum: 0, maximum: 600000, default: 5000, description: 'How long `stop` waits before killing' }),
  },
  { additionalProperties: false },
);
export type SessionsConfig = Static<typeof SessionsConfig>;

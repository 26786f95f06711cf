import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import { definePlugin, providerRegistryRef, sessionDirectoryRef, typeText, type SessionProvider } from '@codepiper/sdk';

const PARROT = fileURLToPath(new URL('./parrot.js', import.meta.url));

/** A `policy.decision` event's payload, as the policies plugin records it. */
interface PolicyDecisionPayload {
  tool: string;
  decision: 'allow' | 'deny' | 'ask';
  reason: string;
  policy: string | null;
}

export default definePlugin({
  name: 'provider-parrot',
  api: '^1.0.0',
  description: 'Sessions of Parrot, a terminal agent that repeats what it is told',
  uses: [providerRegistryRef, sessionDirectoryRef],
  config: Type.Object({
    idle_after_ms: Type.Integer({ minimum: 100, default: 1000, description: 'Quiet output for this long ends a turn' }),
  }),
  register(ctx) {
    const parrot: SessionProvider = {
      id: 'parrot',
      description: 'Parrot, the example terminal agent',
      // Parrot has no hooks to say a turn ended: its output going quiet does.
      idleAfterMs: ctx.config.idle_after_ms,

      // Its options, declared once: `codepiper start --help` lists them, `start -p parrot --loud` takes them
      // (as `options.loud`), the dashboard's start form offers them, and the daemon validates what is sent.
      options: Type.Object({ loud: Type.Optional(Type.Boolean({ description: 'Parrot repeats in capitals' })) }, { additionalProperties: false }),

      // `input.args` is what the user gave after `--`: `codepiper start -p parrot -- hello`.
      async startSession(input, launcher) {
        const loud = input.options.loud === true ? ['--loud'] : [];
        await launcher.launch({ argv: [process.execPath, PARROT, ...loud, ...input.args], metadata: { agent: 'parrot' } });
      },

      sendText: (terminal, text, submit) => typeText(terminal, text, { submit }),

      sendKeys: (terminal, keys) => terminal.pressKeys(keys),

      // Parrot's own way out, so it can say goodbye; the sessions plugin kills it if it does not leave in time.
      stopSession: (terminal) => typeText(terminal, '/quit', { submit: true }),

      // Events about Parrot's sessions (other than session.*): keep why typed text was last refused, for `codepiper show`.
      async onEvent(event, session) {
        if (event.type !== 'policy.decision') return;
        const decision = event.payload as PolicyDecisionPayload;
        if (decision.tool !== 'terminal_input' || decision.decision !== 'deny') return;
        await ctx.services.get(sessionDirectoryRef).updateMetadata(session.id, { lastRefusal: { reason: decision.reason, policy: decision.policy } });
      },
    };
    ctx.services.get(providerRegistryRef).register(parrot);
  },
});

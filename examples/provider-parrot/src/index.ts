import { fileURLToPath } from 'node:url';
import * as Type from '@sinclair/typebox';
import { defineEndpoint, definePlugin, notFound } from '@codepiper/sdk';
import { isFinished, providerRegistryRef, sessionDirectoryRef, typeText, type SessionProvider, type SessionRecord } from '@codepiper/sessions-contract';

const PARROT = fileURLToPath(new URL('./parrot.js', import.meta.url));

/** A `policy.decision` event's payload, as the policies plugin records it. */
interface PolicyDecisionPayload {
  tool: string;
  decision: 'allow' | 'deny' | 'ask';
  reason: string;
  policy: string | null;
}

const ParrotSchema = Type.Object({ id: Type.String(), name: Type.String(), status: Type.String(), loud: Type.Boolean() });

/** Parrot's own API: the CLI commands and the dashboard page it contributes call these. */
export const parrotEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/parrots',
    summary: 'Parrot sessions, loud or not',
    tags: ['parrot'],
    query: Type.Object({ running: Type.Optional(Type.Boolean({ description: 'Only the parrots still running' })) }),
    response: Type.Object({ parrots: Type.Array(ParrotSchema) }),
  }),
  show: defineEndpoint({
    method: 'GET',
    url: '/parrots/:id',
    summary: 'One Parrot session',
    tags: ['parrot'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
    response: ParrotSchema,
  }),
};

const asParrot = (session: SessionRecord) => ({ id: session.id, name: session.name, status: session.status, loud: session.command.includes('--loud') });

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

    const sessions = () => ctx.services.get(sessionDirectoryRef);
    ctx.api.handle(parrotEndpoints.list, async ({ query }) => {
      const parrots = (await sessions().list()).filter((s) => s.provider === 'parrot' && (!query.running || !isFinished(s.status)));
      return { parrots: parrots.map(asParrot) };
    });
    ctx.api.handle(parrotEndpoints.show, async ({ params }) => {
      const session = await sessions().resolve(params.id);
      if (session.provider !== 'parrot') throw notFound(`parrot ${params.id}`);
      return asParrot(session);
    });
    // What Parrot adds to the CLI (`codepiper parrots`, `codepiper parrot ID`) and to the dashboard's navigation.
    ctx.contribute.command({ name: 'parrots', description: 'List Parrot sessions, loud or not', endpoint: parrotEndpoints.list, examples: ['codepiper parrots --running'] });
    ctx.contribute.command({ name: 'parrot', description: 'Show one Parrot session', endpoint: parrotEndpoints.show, examples: ['codepiper parrot 3f2a --json'] });
    ctx.contribute.page({ id: 'parrots', title: 'Parrots', endpoint: parrotEndpoints.list });
  },
});

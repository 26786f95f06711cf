import * as Type from '@sinclair/typebox';
import { createTerminalProvider, providerRegistryRef, type StartSessionInput } from '@codepiper/sessions-contract';
import { definePlugin } from '@codepiper/sdk';

const ModelOption = Type.Object(
  { model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/\\[\\]@-]+$', description: 'The model the agent runs' })) },
  { additionalProperties: false },
);

export interface AgentPreset {
  id: string;
  description: string;
  /** The program, looked up on PATH. */
  program: string;
  /** The flag that takes `--model`. */
  modelFlag: string;
}

/** Output quiet this long means the agent waits for the user. */
const IDLE_AFTER_MS = 3000;

/** Agents known only through their terminal; `codepiper start -p <id> [--model M] [-- args]`. */
export const PRESETS: readonly AgentPreset[] = [
  { id: 'aider', description: 'Aider (terminal only: no hooks)', program: 'aider', modelFlag: '--model' },
  { id: 'gemini', description: 'Gemini CLI (terminal only)', program: 'gemini', modelFlag: '-m' },
];

/** The preset's command line: program, model flag, then what the user gave after `--`. */
export function presetArgv(preset: AgentPreset, input: Pick<StartSessionInput, 'args' | 'options'>): string[] {
  const model = typeof input.options.model === 'string' ? input.options.model : undefined;
  return [preset.program, ...(model ? [preset.modelFlag, model] : []), ...input.args];
}

export default definePlugin({
  name: 'provider-terminal-agents',
  api: '^1.0.0',
  description: 'Presets for terminal agents without integration hooks: aider, gemini',
  uses: [providerRegistryRef],
  register(ctx) {
    const registry = ctx.services.get(providerRegistryRef);
    for (const preset of PRESETS) {
      registry.register(
        createTerminalProvider({
          id: preset.id,
          description: preset.description,
          options: ModelOption,
          command: (input) => ({ argv: presetArgv(preset, input) }),
          idleAfterMs: IDLE_AFTER_MS,
        }),
      );
    }
  },
});

import { createTerminalProvider, providerRegistryRef } from '@codepiper/sessions-contract';
import { definePlugin } from '@codepiper/sdk';

export default definePlugin({
  name: 'provider-shell',
  api: '^1.0.0',
  description: 'The `shell` provider: any terminal program, the user’s shell by default',
  uses: [providerRegistryRef],
  register(ctx) {
    ctx.services.get(providerRegistryRef).register(
      createTerminalProvider({
        id: 'shell',
        description: 'Any terminal program (default: your shell)',
        command: ({ args }) => ({ argv: args.length > 0 ? args : [ctx.env.SHELL || '/bin/sh'] }),
      }),
    );
  },
});

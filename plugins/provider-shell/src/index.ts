import { createTerminalProvider, definePlugin, providerRegistryRef, SDK_CONTRACT_VERSION } from '@codepiper/sdk';

export default definePlugin({
  name: 'provider-shell',
  contract: SDK_CONTRACT_VERSION,
  description: 'The `shell` provider: any terminal program, the user’s shell by default',
  dependencies: ['sessions'],
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

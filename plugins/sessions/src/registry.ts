import { badRequest, CodePiperError, describeFields } from '@codepiper/sdk';
import type { ProviderInfo, ProviderRegistry, SessionProvider, SessionRecord } from '@codepiper/sessions-contract';
import { findProgram } from './start-checks.js';

/** The registered providers, and what the sessions plugin asks of them by id. */
export class Providers implements ProviderRegistry {
  private readonly providers = new Map<string, SessionProvider>();

  register(provider: SessionProvider): void {
    if (this.providers.has(provider.id)) throw new Error(`a provider with id "${provider.id}" is already registered`);
    this.providers.set(provider.id, provider);
  }

  get(id: string): SessionProvider | undefined {
    return this.providers.get(id);
  }

  list(): readonly SessionProvider[] {
    return [...this.providers.values()];
  }

  /** The provider a start names; an unknown one is named with those installed. */
  named(id: string): SessionProvider {
    const provider = this.providers.get(id);
    if (!provider) {
      const known = this.list().map((p) => p.id);
      throw new CodePiperError('unknown_provider', `unknown provider "${id}"; installed: ${known.join(', ') || 'none'}`, { providers: known });
    }
    return provider;
  }

  /** The provider of a session, which must be loaded. */
  of(session: Pick<SessionRecord, 'id' | 'provider'>): SessionProvider {
    const provider = this.providers.get(session.provider);
    if (!provider) throw new CodePiperError('provider_unavailable', `provider "${session.provider}" of session ${session.id.slice(0, 8)} is not loaded`);
    return provider;
  }

  /** The installed providers with the options each takes; for those that run an agent CLI, where it is found on `searchPath`. */
  describe(searchPath: string | undefined): Promise<ProviderInfo[]> {
    return Promise.all(
      this.list().map(async (provider) => {
        const { id, description } = provider;
        const info = { id, description, options: describeFields(provider.options), resumable: provider.resumable ?? false, switchesModel: provider.switchModel !== undefined, keepsTranscript: provider.transcript !== undefined, readsImages: provider.imageReference !== undefined };
        const agent = provider.program?.();
        if (!agent) return info;
        return { ...info, program: { ...agent, path: (await findProgram(agent.command, searchPath)) ?? null } };
      }),
    );
  }

  /**
   * Finds a program on `searchPath` now, so that a typo fails the request
   * instead of leaving a dead session; a missing agent CLI is named with how
   * to install it or point at it.
   */
  async programPath(argv: readonly string[], providerId: string, searchPath: string | undefined): Promise<string> {
    const program = argv[0];
    if (!program) throw badRequest('the command is empty');
    const found = await findProgram(program, searchPath);
    if (found) return found;
    const agent = this.providers.get(providerId)?.program?.();
    const hint = agent?.command === program ? `; ${agent.hint}` : '';
    throw new CodePiperError('command_not_found', `command not found: ${JSON.stringify(program)}${hint}`);
  }
}

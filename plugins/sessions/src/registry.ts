import type { ProviderRegistry, SessionProvider } from '@codepiper/sessions-contract';

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
}

import type { Command } from 'cac';
import { sessionEndpoints, type ProviderInfo } from '@codepiper/sessions-contract';
import type { SchemaField } from '@codepiper/sdk';
import { connect, unlessNoDaemon } from './client.js';
import { UsageError } from './errors.js';
import { declareFieldFlag, fieldValues, flagOf } from './field-flags.js';

/** A provider option as one flag of `start`, merged across the providers that take it. */
export interface ProviderFlag extends SchemaField {
  /** The providers that take it. */
  providers: string[];
}

export function providerFlags(providers: readonly ProviderInfo[]): ProviderFlag[] {
  const byKey = new Map<string, ProviderFlag>();
  for (const provider of providers) {
    for (const option of provider.options) {
      const known = byKey.get(option.key);
      if (known) known.providers.push(provider.id);
      else byKey.set(option.key, { ...option, providers: [provider.id] });
    }
  }
  return [...byKey.values()];
}

/** The flags of the providers the daemon has installed; undefined when no daemon answers. */
export async function installedProviderFlags(): Promise<ProviderFlag[] | undefined> {
  const answer = await unlessNoDaemon(() => connect().call(sessionEndpoints.providers));
  return answer && providerFlags(answer.providers);
}

export function declareProviderFlags(command: Command, flags: readonly ProviderFlag[]): void {
  for (const flag of flags) declareFieldFlag(command, flag, `${flag.providers.join(', ')}: ${flag.description || flag.key}`);
}

/**
 * The provider options given as flags, typed as the provider declares them;
 * a flag of another provider's option is refused here, naming whose it is.
 */
export function providerOptionValues(given: Record<string, unknown>, flags: readonly ProviderFlag[], provider: string): Record<string, unknown> | undefined {
  const foreign = flags.find((flag) => given[flag.key] !== undefined && !flag.providers.includes(provider));
  if (foreign) throw new UsageError(`${flagOf(foreign.key)} is an option of ${foreign.providers.join(', ')}, not of provider ${provider}`);
  return fieldValues(given, flags);
}

import type { Command } from 'cac';
import { DaemonUnreachableError, sessionEndpoints, type ProviderInfo, type ProviderOption } from '@codepiper/sdk';
import { optionValue } from './args.js';
import { connect } from './client.js';
import { UsageError } from './errors.js';

/** One flag of `start` for a provider option (`--permission-mode <permissionMode>` for `options.permissionMode`), merged across the providers that take it. */
export interface ProviderFlag {
  key: string;
  flag: string;
  type: ProviderOption['type'];
  description: string;
  choices?: string[];
  /** The providers that take it. */
  providers: string[];
}

/** cac camel-cases `--permission-mode` back into `permissionMode`, the option's key. */
const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function providerFlags(providers: readonly ProviderInfo[]): ProviderFlag[] {
  const byKey = new Map<string, ProviderFlag>();
  for (const provider of providers) {
    for (const option of provider.options) {
      const known = byKey.get(option.key);
      if (known) known.providers.push(provider.id);
      else byKey.set(option.key, { ...option, flag: flagOf(option.key), providers: [provider.id] });
    }
  }
  return [...byKey.values()];
}

/** The flags of the providers the daemon has installed; undefined when no daemon answers. */
export async function installedProviderFlags(): Promise<ProviderFlag[] | undefined> {
  try {
    return providerFlags((await connect().call(sessionEndpoints.providers)).providers);
  } catch (error) {
    if (error instanceof DaemonUnreachableError) return undefined;
    throw error;
  }
}

export function declareProviderFlags(command: Command, flags: readonly ProviderFlag[]): void {
  for (const flag of flags) {
    const choices = flag.choices ? ` (${flag.choices.join(', ')})` : '';
    command.option(flag.type === 'boolean' ? flag.flag : `${flag.flag} <${flag.key}>`, `${flag.providers.join(', ')}: ${flag.description || flag.key}${choices}`);
  }
}

/**
 * The provider options given as flags, typed as the provider declares them;
 * a flag of another provider's option is refused here, naming whose it is.
 */
export function providerOptionValues(given: Record<string, unknown>, flags: readonly ProviderFlag[], provider: string): Record<string, unknown> | undefined {
  const values: [string, unknown][] = [];
  for (const flag of flags) {
    if (given[flag.key] === undefined) continue;
    if (!flag.providers.includes(provider)) throw new UsageError(`${flag.flag} is an option of ${flag.providers.join(', ')}, not of provider ${provider}`);
    values.push([flag.key, valueOf(flag, given[flag.key])]);
  }
  return values.length > 0 ? Object.fromEntries(values) : undefined;
}

function valueOf(flag: ProviderFlag, raw: unknown): unknown {
  if (flag.type === 'boolean') {
    if (typeof raw !== 'boolean') throw new UsageError(`${flag.flag} takes no value`);
    return raw;
  }
  // cac reads a value that looks like a number as one.
  const text = optionValue(typeof raw === 'number' ? String(raw) : raw, flag.flag);
  if (flag.type === 'number') {
    const number = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isFinite(number)) throw new UsageError(`${flag.flag} needs a number, got "${text}"`);
    return number;
  }
  return text;
}

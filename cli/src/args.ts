import { ENV_NAME_PATTERN } from '@codepiper/sdk';
import { KEY_NAMES, SESSION_STATUSES, parseKeyName, type KeyName, type SessionStatus } from '@codepiper/sessions-contract';
import { UsageError } from './errors.js';

/** Every value given for an option that takes one (cac gives an array when it is repeated). */
export function optionValues(value: unknown, flag: string): string[] {
  const values: unknown[] = value === undefined ? [] : [value].flat();
  if (!values.every((v) => typeof v === 'string')) throw new UsageError(`${flag} needs a value`);
  return values as string[];
}

/** The value of an option that may be given once. */
export function optionValue(value: unknown, flag: string): string | undefined {
  const values = optionValues(value, flag);
  if (values.length > 1) throw new UsageError(`${flag} may be given only once`);
  return values[0];
}

const ENV_NAME = new RegExp(ENV_NAME_PATTERN);

/** `NAME=VALUE` pairs of a repeatable option (`--env`, `--var`); a later pair wins. Undefined when there are none. */
export function parseEnv(pairs: readonly string[], flag = '--env'): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq === -1) throw new UsageError(`${flag} expects NAME=VALUE, got "${pair}"`);
    const name = pair.slice(0, eq);
    if (!ENV_NAME.test(name)) {
      throw new UsageError(`${flag}: "${name}" is not a valid variable name (letters, digits and _, not starting with a digit)`);
    }
    env.set(name, pair.slice(eq + 1));
  }
  return Object.fromEntries(env);
}

/** `--secret NAME` names, each once; undefined when there are none. */
export function parseSecretNames(names: readonly string[]): string[] | undefined {
  if (names.length === 0) return undefined;
  for (const name of names) {
    if (!ENV_NAME.test(name)) throw new UsageError(`--secret: "${name}" is not a secret name (letters, digits and _, not starting with a digit)`);
  }
  return [...new Set(names)];
}

const KEY_HELP = `${KEY_NAMES.join(', ')}, ctrl+<a-z [ ] \\>, alt+<a-z 0-9>`;

/** Normalised key names; names every key it does not know, and lists the valid ones. */
export function parseKeys(words: readonly string[]): KeyName[] {
  const keys: KeyName[] = [];
  const unknown: string[] = [];
  for (const word of words) {
    const key = parseKeyName(word);
    if (key === undefined) unknown.push(`"${word}"`);
    else keys.push(key);
  }
  if (unknown.length > 0) throw new UsageError(`unknown key ${unknown.join(', ')}; valid keys: ${KEY_HELP}`);
  return keys;
}

export function parsePositiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new UsageError(`${flag} expects a whole number of at least 1, got "${text}"`);
  return value;
}

export function parseStatus(text: string | undefined): SessionStatus | undefined {
  if (text === undefined) return undefined;
  const status = SESSION_STATUSES.find((s) => s === text);
  if (!status) throw new UsageError(`--status must be one of ${SESSION_STATUSES.join(', ')}; got "${text}"`);
  return status;
}

/**
 * A time: an ISO time (2026-01-31T10:00:00Z), a date (2026-01-31, the start of
 * that day in UTC) or an age before `now` (30s, 10m, 2h, 7d).
 */
export function parseTime(text: string, flag: string, now: number = Date.now()): string {
  const age = /^(\d+)([smhd])$/.exec(text);
  if (age) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[age[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(age[1]) * unit * 1000).toISOString();
  }
  const time = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(time)) throw new UsageError(`${flag} expects a time (2026-01-31, 2026-01-31T10:00:00Z) or an age (30s, 10m, 2h, 7d); got "${text}"`);
  return new Date(time).toISOString();
}

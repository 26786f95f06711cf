import type { Command } from 'cac';
import type { SchemaField } from '@codepiper/sdk';
import { optionValue } from './args.js';
import { UsageError } from './errors.js';

/** A schema field as a flag: `--permission-mode` for `permissionMode` (cac camel-cases it back into the field's key). */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Declares the flag of `field`: bare for a boolean, with a value otherwise. */
export function declareFieldFlag(command: Command, field: SchemaField, description: string): void {
  const choices = field.choices ? ` (${field.choices.join(', ')})` : '';
  command.option(field.type === 'boolean' ? flagOf(field.key) : `${flagOf(field.key)} <${field.key}>`, `${description}${choices}`);
}

/** A flag's value as its field declares it: true for a bare flag, a number, or a string given once. */
export function fieldValue(field: SchemaField, raw: unknown): unknown {
  const flag = flagOf(field.key);
  if (field.type === 'boolean') {
    if (typeof raw !== 'boolean') throw new UsageError(`${flag} takes no value`);
    return raw;
  }
  // cac reads a value that looks like a number as one.
  const text = optionValue(typeof raw === 'number' ? String(raw) : raw, flag);
  if (field.type === 'number') {
    const number = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isFinite(number)) throw new UsageError(`${flag} needs a number, got "${text}"`);
    return number;
  }
  return text;
}

/** The fields given as flags, typed; undefined when none is. */
export function fieldValues(given: Record<string, unknown>, fields: readonly SchemaField[]): Record<string, unknown> | undefined {
  const values = fields.flatMap((field): [string, unknown][] => (given[field.key] === undefined ? [] : [[field.key, fieldValue(field, given[field.key])]]));
  return values.length > 0 ? Object.fromEntries(values) : undefined;
}

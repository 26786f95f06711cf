import type { TObject, TSchema } from '@sinclair/typebox';
import type { ProviderOption } from './sessions.js';

/**
 * The options a provider's schema declares, as clients offer them: a string
 * (with its choices when it is a union of literals), a boolean or a number.
 * A property of another shape is offered as a string; the provider's schema
 * still validates what is sent.
 */
export function describeProviderOptions(schema: TObject | undefined): ProviderOption[] {
  if (!schema) return [];
  return Object.entries(schema.properties).map(([key, property]) => {
    const description = typeof property.description === 'string' ? property.description : '';
    const choices = literalChoices(property);
    if (choices) return { key, type: 'string', description, choices };
    const type = property.type === 'boolean' ? 'boolean' : property.type === 'integer' || property.type === 'number' ? 'number' : 'string';
    return { key, type, description };
  });
}

function literalChoices(schema: TSchema): string[] | undefined {
  const members = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!members?.every((member) => typeof member.const === 'string')) return undefined;
  return members.map((member) => member.const as string);
}

import type { TSchema } from '@sinclair/typebox';
import type { SchemaField } from './schemas.js';

/**
 * The fields an object schema declares (a provider's options, an endpoint's
 * query), as clients offer them: a string (with its choices when it is a
 * union of string literals), a boolean or a number. A property of another
 * shape is offered as a string; the schema still validates what is sent.
 */
export function describeFields(schema: TSchema | undefined): SchemaField[] {
  const properties = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
  return Object.entries(properties).map(([key, property]) => {
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

import * as Type from '@sinclair/typebox';
import type { Static, StringOptions, TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from './errors.js';

/** Schema helpers shared by every endpoint. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601 time' });

export const Ok = Type.Object({ ok: Type.Literal(true) });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ enum: Object.keys(ERROR_CODES), description: 'What went wrong, for a program to decide by; each code with its HTTP status and meaning is listed in the API description' }),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'ErrorBody' },
);

/** A name a person gives a thing (a policy set, an env set, a host): letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const Name = (options: StringOptions = {}) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', ...options });

/** A valid environment variable name. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

/** One field of a schema as clients offer it (a CLI flag, a form field): a provider's start option, a contributed command's query parameter. */
export const SchemaFieldSchema = Type.Object({
  key: Type.String(),
  type: Type.Union([Type.Literal('string'), Type.Literal('boolean'), Type.Literal('number')]),
  description: Type.String(),
  choices: Type.Optional(Type.Array(Type.String(), { description: 'The only values it takes' })),
});
export type SchemaField = Static<typeof SchemaFieldSchema>;

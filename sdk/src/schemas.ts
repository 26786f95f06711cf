import { Type, type TSchema } from '@sinclair/typebox';
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

/** A valid environment variable name. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

import * as Type from '@sinclair/typebox';
import { defineEndpoint, ENV_NAME_PATTERN, IsoTime, Ok, createServiceRef } from '@codepiper/sdk';

/**
 * A user's named secret is named like the environment variable it becomes
 * (`codepiper start --secret NAME`). Plugins keep their own secrets under
 * `plugin.name` names, which the user's commands never list.
 */
export const SECRET_NAME_PATTERN = ENV_NAME_PATTERN;
export const PLUGIN_SECRET_PATTERN = '^[a-z][a-z0-9-]*\\.[a-z][a-z0-9.-]*$';
export const MAX_SECRET_BYTES = 65536;

export interface SecretInfo {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** Secrets encrypted at rest (AES-256-GCM, key in a 0600 file). Values never leave this service except to their user. */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /** Whether there was one to remove. */
  delete(name: string): Promise<boolean>;
  /** The user's secrets (no plugin's), without their values. */
  list(): Promise<SecretInfo[]>;
}

/** The secrets contract: the secret store service. Its version moves with what it promises: a major version for a change that breaks its users. */
export const SECRETS_CONTRACT = '1.0.0';

export const secretStoreRef = createServiceRef<SecretStore>('secrets.store', 'Encrypted secrets: named user secrets and plugin keys', SECRETS_CONTRACT);

const SecretName = Type.String({ pattern: SECRET_NAME_PATTERN, maxLength: 128, description: 'Like an environment variable name' });
const SecretInfoSchema = Type.Object({ name: Type.String(), createdAt: IsoTime, updatedAt: IsoTime });

export const secretEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/secrets',
    control: true,
    summary: 'Named secrets (names and times, never values)',
    tags: ['secrets'],
    response: Type.Object({ secrets: Type.Array(SecretInfoSchema) }),
  }),
  set: defineEndpoint({
    method: 'PUT',
    url: '/secrets/:name',
    control: true,
    summary: 'Store a named secret (replacing one of that name); the value is never returned',
    tags: ['secrets'],
    params: Type.Object({ name: SecretName }),
    body: Type.Object({ value: Type.String({ minLength: 1, maxLength: MAX_SECRET_BYTES }) }, { additionalProperties: false }),
    response: Type.Object({ name: Type.String(), created: Type.Boolean() }),
  }),
  remove: defineEndpoint({
    method: 'DELETE',
    url: '/secrets/:name',
    control: true,
    summary: 'Delete a named secret',
    tags: ['secrets'],
    params: Type.Object({ name: SecretName }),
    response: Ok,
  }),
};

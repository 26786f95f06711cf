import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, ENV_NAME_PATTERN, IsoTime, Name, Nullable, Ok } from '@codepiper/sdk';
import { SessionSchema, startGovernsPolicies, StartSessionSchema } from '@codepiper/sessions-contract';

/** The workspaces contract: saved projects with their defaults, and named env sets (owned by the workspaces plugin). */
export const WORKSPACES_CONTRACT = '1.0.0';

/** Names of workspaces and env sets: a word a shell needs no quotes for. */
const NameParams = Type.Object({ name: Name() });
const EnvName = Type.String({ pattern: ENV_NAME_PATTERN });

export const EnvSetSchema = Type.Object({
  name: Type.String(),
  env: Type.Record(Type.String(), Type.String(), { description: 'Variables and their values (not secret: shown to whoever lists the set)' }),
  secrets: Type.Array(Type.String(), { description: 'Named secrets (`codepiper secret set`) put into the environment under their names; their values stay in the secret store' }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type EnvSet = Static<typeof EnvSetSchema>;

/**
 * A start's environment over an env set's: the set's variables with the
 * start's own over them, the secrets of both, once each; an empty one left
 * out. One rule for `start --env-set` and a workspace's env set.
 */
export function overEnvSet(
  set: Pick<EnvSet, 'env' | 'secrets'> | undefined,
  own: { env?: Record<string, string> | undefined; secrets?: readonly string[] | undefined },
): { env?: Record<string, string>; secrets?: string[] } {
  const env = { ...set?.env, ...own.env };
  const secrets = [...new Set([...(set?.secrets ?? []), ...(own.secrets ?? [])])];
  return { ...(Object.keys(env).length > 0 && { env }), ...(secrets.length > 0 && { secrets }) };
}

const EnvSetBody = Type.Object(
  {
    env: Type.Optional(Type.Record(EnvName, Type.String({ maxLength: 65536 }), { maxProperties: 256 })),
    secrets: Type.Optional(Type.Array(EnvName, { maxItems: 64, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const WorkspaceSchema = Type.Object({
  name: Type.String(),
  dir: Type.String({ description: 'Where its sessions start' }),
  provider: Nullable(Type.String({ description: 'Its sessions’ provider unless a start names another' })),
  envSet: Nullable(Type.String({ description: 'The env set its sessions get' })),
  policySet: Nullable(Type.String({ description: 'The policy set its sessions are under, with every session’s policies' })),
  worktree: Type.Boolean({ description: 'Whether each session gets a git worktree of its own' }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Workspace = Static<typeof WorkspaceSchema>;

const WorkspaceFields = {
  dir: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of an existing directory' }),
  provider: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
  envSet: Nullable(Name()),
  policySet: Nullable(Name()),
  worktree: Type.Boolean(),
};

/** What a start in a workspace may say; the rest comes from the workspace. */
export const WorkspaceStartSchema = Type.Composite([Type.Omit(StartSessionSchema, ['cwd', 'provider', 'worktree']), Type.Object({ provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) })], {
  additionalProperties: false,
});
export type WorkspaceStart = Static<typeof WorkspaceStartSchema>;

export const workspaceEndpoints = {
  list: defineEndpoint({ method: 'GET', url: '/workspaces', summary: 'Saved workspaces, by name', tags: ['workspaces'], response: Type.Object({ workspaces: Type.Array(WorkspaceSchema) }) }),
  show: defineEndpoint({ method: 'GET', url: '/workspaces/:name', summary: 'One workspace', tags: ['workspaces'], params: NameParams, response: WorkspaceSchema }),
  create: defineEndpoint({
    method: 'POST',
    url: '/workspaces',
    summary: 'Saves a workspace: a directory and the defaults of the sessions started in it',
    tags: ['workspaces'],
    // Its defaults govern agents (their directory, environment, provider): not for a program inside a session to change.
    control: true,
    status: 201,
    body: Type.Object({ name: Name(), dir: WorkspaceFields.dir, provider: Type.Optional(WorkspaceFields.provider), envSet: Type.Optional(WorkspaceFields.envSet), policySet: Type.Optional(WorkspaceFields.policySet), worktree: Type.Optional(WorkspaceFields.worktree) }, { additionalProperties: false }),
    response: WorkspaceSchema,
  }),
  update: defineEndpoint({
    method: 'PATCH',
    url: '/workspaces/:name',
    summary: 'Changes a workspace’s defaults (null removes one)',
    tags: ['workspaces'],
    control: true,
    params: NameParams,
    body: Type.Partial(Type.Object(WorkspaceFields), { additionalProperties: false }),
    response: WorkspaceSchema,
  }),
  remove: defineEndpoint({ method: 'DELETE', url: '/workspaces/:name', summary: 'Forgets a workspace (its sessions stay)', tags: ['workspaces'], control: true, params: NameParams, response: Ok }),
  start: defineEndpoint({
    method: 'POST',
    url: '/workspaces/:name/sessions',
    summary: 'Starts a session with the workspace’s defaults: its directory, provider, env set, policy set (attached before the session starts) and worktree; what the body says comes first',
    tags: ['workspaces'],
    status: 201,
    params: NameParams,
    body: WorkspaceStartSchema,
    response: SessionSchema,
    control: startGovernsPolicies,
  }),
};

export const envSetEndpoints = {
  list: defineEndpoint({ method: 'GET', url: '/env-sets', summary: 'Named env sets, by name', tags: ['workspaces'], response: Type.Object({ envSets: Type.Array(EnvSetSchema) }) }),
  show: defineEndpoint({ method: 'GET', url: '/env-sets/:name', summary: 'One env set', tags: ['workspaces'], params: NameParams, response: EnvSetSchema }),
  put: defineEndpoint({
    method: 'PUT',
    url: '/env-sets/:name',
    summary: 'Creates or replaces an env set: variables, and the names of secrets to put into the environment',
    tags: ['workspaces'],
    control: true,
    params: NameParams,
    body: EnvSetBody,
    response: EnvSetSchema,
  }),
  remove: defineEndpoint({ method: 'DELETE', url: '/env-sets/:name', summary: 'Removes an env set no workspace uses', tags: ['workspaces'], control: true, params: NameParams, response: Ok }),
};

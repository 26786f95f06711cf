import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, type AnyEndpoint } from './api.js';
import { SchemaFieldSchema } from './schemas.js';

/**
 * A command a plugin adds to the CLI, answered by one of its GET endpoints:
 * `codepiper NAME ARGS... [--FIELD value]`, the endpoint's path parameters as
 * its arguments (in order) and its query fields as its flags. The CLI prints
 * the answer (`--json`: as is).
 */
export interface CommandContribution {
  /** One word, lowercase and dashes; a name a built-in command has is not offered. */
  name: string;
  description: string;
  endpoint: AnyEndpoint;
  examples?: readonly string[];
}

/** A page a plugin adds to the dashboard's navigation, showing what one of its GET endpoints (without path parameters) answers: a list as a table, an object as fields. */
export interface PageContribution {
  /** Its address in the dashboard: `#/plugins/PLUGIN/ID`. */
  id: string;
  title: string;
  endpoint: AnyEndpoint;
}

/** Where a plugin declares what it adds to the CLI and the dashboard, the way VS Code extensions contribute commands and views (during `register`). */
export interface PluginContributions {
  command(command: CommandContribution): void;
  page(page: PageContribution): void;
}

const ContributedCommandSchema = Type.Object({
  plugin: Type.String(),
  name: Type.String(),
  description: Type.String(),
  /** The endpoint's path, its parameters (`:id`) filled from the arguments. */
  url: Type.String(),
  arguments: Type.Array(Type.String(), { description: 'The path parameters, in order' }),
  flags: Type.Array(SchemaFieldSchema, { description: 'The query fields' }),
  examples: Type.Array(Type.String()),
});
export type ContributedCommand = Static<typeof ContributedCommandSchema>;

const ContributedPageSchema = Type.Object({ plugin: Type.String(), id: Type.String(), title: Type.String(), url: Type.String() });
export type ContributedPage = Static<typeof ContributedPageSchema>;

export const contributionEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/contributions',
    summary: 'The CLI commands and dashboard pages the loaded plugins add',
    tags: ['daemon'],
    response: Type.Object({ commands: Type.Array(ContributedCommandSchema), pages: Type.Array(ContributedPageSchema) }),
  }),
};

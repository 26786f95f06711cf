/**
 * The part of the SDK a browser can load: endpoint definitions, schemas,
 * types and constants, with no Node.js modules. The web dashboard imports
 * `@codepiper/sdk/contracts`; everything here is also in the main entry.
 */
export * from './analytics.js';
export * from './api.js';
export * from './audit.js';
export * from './auth.js';
export * from './answers.js';
export * from './contributions.js';
export * from './daemon.js';
export * from './errors.js';
export * from './events.js';
export * from './hosts.js';
export * from './keys.js';
export * from './notifications.js';
export * from './policies.js';
export * from './schemas.js';
export * from './secrets.js';
export * from './sessions.js';
export * from './workflows.js';
export * from './worktrees.js';
export * from './workspaces.js';

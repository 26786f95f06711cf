/**
 * The part of the plugin API a browser can load: endpoint and hook
 * definitions, service refs, schemas, errors and constants, with no Node.js
 * modules. It is what a feature contract may use, and what a browser gets for
 * `@codepiper/sdk` (the `browser` condition of its exports): the dashboard's
 * build takes the contracts it shows as they are.
 */
export * from './answers.js';
export * from './api.js';
export * from './contributions.js';
export * from './daemon.js';
export * from './errors.js';
export * from './hooks.js';
export * from './schema-fields.js';
export * from './schemas.js';
export * from './services.js';

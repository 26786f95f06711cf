/**
 * The part of the plugin API a browser can load: endpoint definitions,
 * schemas, errors and constants, with no Node.js modules. The web dashboard
 * imports `@codepiper/sdk/browser` beside the feature contracts it shows.
 */
export * from './answers.js';
export * from './api.js';
export * from './contributions.js';
export * from './daemon.js';
export * from './errors.js';
export * from './schemas.js';

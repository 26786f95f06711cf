/** The sessions contract. */
export * from './sessions.js';
export * from './keys.js';
export * from './terminal-provider.js';
export * from './terminal-client.js';

/** The workspaces contract. */
export * from './workspaces.js';

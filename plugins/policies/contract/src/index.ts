/** The policies contract. */
export * from './policies.js';
export * from './tool-calls.js';

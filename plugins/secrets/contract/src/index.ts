/** The secrets contract. */
export * from './secrets.js';

/** The auth contract. */
export * from './auth.js';

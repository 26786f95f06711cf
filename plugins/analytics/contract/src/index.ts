/** The analytics contract. */
export * from './analytics.js';

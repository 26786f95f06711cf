/** The audit contract. */
export * from './audit.js';

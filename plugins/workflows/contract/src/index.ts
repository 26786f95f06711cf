/** The workflows contract. */
export * from './workflows.js';

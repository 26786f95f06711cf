/** The hosts contract. */
export * from './hosts.js';

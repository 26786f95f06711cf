/** The events contract. */
export * from './events.js';

/** The notifications contract. */
export * from './notifications.js';

/** The claude-code contract. */
export * from './claude-code.js';

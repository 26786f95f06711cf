/** The codex contract. */
export * from './codex.js';

/** The worktrees contract. */
export * from './worktrees.js';

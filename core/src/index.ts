export { createKernel, Kernel, type KernelOptions, type WebFlags } from './kernel.js';
export { runDaemon, type DaemonEnd } from './daemon.js';
export { ConfigError, DEFAULT_WEB_PORT, LOG_LEVELS, type LogLevel } from './config.js';
export { resolvePaths, type Env, type KernelPaths } from './paths.js';
export { HookBus, HookTapError, type HookInfo } from './hook-bus.js';
export { ServiceContainer } from './container.js';
export type { KernelStore, Transaction } from './store.js';

import type { Static, TObject } from '@sinclair/typebox';
import type { ApiRegistrar } from './api.js';
import type { PluginContributions } from './contributions.js';
import type { PluginHooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { AnyServiceRef, ServiceRef } from './services.js';
import type { Migration, Store } from './store.js';

/** Where a daemon keeps its files; every path is absolute. */
export interface DaemonPaths {
  /** `$CODEPIPER_HOME` (default `~/.codepiper`), mode 0700. */
  home: string;
  /** The API socket, mode 0600. */
  socket: string;
  /** The agents' socket, mode 0600: the agents' hook endpoints only (see `Endpoint.agents`). */
  agentSocket: string;
  logs: string;
  /** Runtime files (pids, sockets); emptied at each start. */
  run: string;
  /** A directory of the plugin's own, created on first use. */
  pluginData(plugin: string): string;
}

export interface PluginServices {
  /**
   * Provides a service declared in `provides` (during `register`). The factory runs once, lazily, the
   * first time the service is resolved; `dispose` runs when the kernel stops.
   */
  provide<T>(ref: ServiceRef<T>, factory: () => T, options?: { dispose?: (service: T) => void | Promise<void> }): void;
  /** Resolves a service this plugin declared in `uses` (or `provides`); fails, naming the service and this plugin, otherwise. */
  get<T>(ref: ServiceRef<T>): T;
}

export interface KernelControl {
  /** Asks the daemon to stop (used by `codepiper daemon stop`). */
  requestStop(reason: string): void;
  /** Asks the daemon to stop and start again (a service's supervisor, or the CLI that ran it, starts the new one). */
  requestRestart(reason: string): void;
  /** The loaded plugins in start order. */
  readonly plugins: readonly { name: string; api: string }[];
  readonly startedAt: Date;
  /**
   * Tells the person who started the daemon something, once: a foreground
   * daemon's terminal, or `codepiper daemon --detach`'s. Never logged, so it
   * may carry a one-time secret (the first-run bootstrap password).
   */
  notify(text: string): void;
  /** Whether the daemon listens on TCP (`--web`). */
  readonly webEnabled: boolean;
  /**
   * Closes the WebSockets opened over TCP as `principal` (what the
   * `httpAuthenticate` verdict named), or all of them: for an authenticator
   * ending web sessions, so an open terminal does not outlive its sign-in.
   */
  closeWebSockets(principal?: string): void;
  /**
   * Something wrong now that the daemon cannot fix by itself (a full disk),
   * listed by `codepiper daemon status` until it is reported again as null.
   * `key` names the problem, so that a later report replaces or clears it.
   */
  reportProblem(key: string, message: string | null): void;
}

export interface PluginContext<Config = Record<string, never>> {
  readonly name: string;
  /** This plugin's section of `config.yaml`, validated, with defaults applied. */
  readonly config: Config;
  readonly paths: DaemonPaths;
  /** The daemon's environment (read it; never copy it wholesale into a session). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A pino child logger bound to `{ plugin: name }`. */
  readonly log: Logger;
  readonly hooks: PluginHooks;
  readonly services: PluginServices;
  /** Routes and WebSocket endpoints; usable during `register` only. */
  readonly api: ApiRegistrar;
  /** CLI commands and dashboard pages this plugin adds; during `register` only. */
  readonly contribute: PluginContributions;
  /** Declares this plugin's migrations; during `register` only. */
  migrations(list: readonly Migration[]): void;
  /** The database; usable from `start` on (migrations have run by then). */
  readonly store: Store;
  readonly kernel: KernelControl;
}

export interface PluginDefinition<C extends TObject | undefined = TObject | undefined> {
  /** Unique, lowercase, dash-separated: `sessions`, `provider-shell`. */
  readonly name: string;
  /** The plugin API versions this plugin works with, a semver range: `'^1.0.0'`. */
  readonly api: string;
  readonly description: string;
  /** The services this plugin provides (each during `register`). */
  readonly provides?: readonly AnyServiceRef[];
  /**
   * The services this plugin uses. The plugins providing them start first;
   * one used but provided by no plugin, or by two, stops the daemon's start.
   */
  readonly uses?: readonly AnyServiceRef[];
  /** Schema of this plugin's section of `config.yaml`. */
  readonly config?: C;
  /**
   * Wires services, hook taps, routes and migrations; no I/O. Returns what to
   * do at start and stop, so a plugin's state lives in this closure, one per
   * daemon, never in module scope.
   */
  register(ctx: PluginContext<ConfigOf<C>>): PluginLifecycle | void;
}

/**
 * Start runs in dependency order once migrations have run; stop runs in
 * reverse. A plugin whose `start` fails stops the daemon's start-up, naming it.
 */
export interface PluginLifecycle {
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export type ConfigOf<C> = C extends TObject ? Static<C> : Record<string, never>;

export function definePlugin<C extends TObject | undefined = undefined>(definition: PluginDefinition<C>): PluginDefinition<C> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`plugin name "${definition.name}" must be lowercase letters, digits and dashes`);
  }
  return Object.freeze(definition);
}

/** Any plugin, whatever its config type; what the kernel loads. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPlugin = PluginDefinition<any>;

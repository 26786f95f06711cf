import fs from 'node:fs';
import { httpAuthenticate, localControlRequest, type AnyPlugin, type KernelControl, type Migration, type PluginContext, type PluginLifecycle } from '@codepiper/sdk';
import { pino, type Logger } from 'pino';
import { ApiServer, type WebListener } from './api-server.js';
import { isLoopback } from './host-names.js';
import { ConfigError, loadConfig, type KernelConfig, type WebSettings } from './config.js';
import { ServiceContainer } from './container.js';
import { Contributions } from './contributions.js';
import { serveDaemonEndpoints } from './daemon-endpoints.js';
import { messageOf, StartRefused } from './errors.js';
import { TlsFiles } from './tls-files.js';
import { HookBus } from './hook-bus.js';
import { createLogger, type KernelLogger } from './logger.js';
import { Problems } from './problems.js';
import { runMigrations } from './migrations.js';
import { emptyRunDir, ensureHome, resolvePaths, type Env, type KernelPaths } from './paths.js';
import { orderPlugins } from './plugin-graph.js';
import { describePlugin, loadListedPlugins, PluginLoadError } from './plugin-loader.js';
import { markDatabase, refuseLostDatabase } from './database-guard.js';
import { lockHome, type HomeLock } from './home-lock.js';
import { claimSocket } from './socket-claim.js';
import { IN_MEMORY, openStore, type KernelStore } from './store.js';

export interface KernelOptions {
  plugins: readonly AnyPlugin[];
  /** Where `CODEPIPER_HOME` and `CODEPIPER_LOG_LEVEL` are read, and what plugins see as the environment; `process.env` by default. */
  env?: Env;
  /** Overrides `CODEPIPER_HOME`. */
  home?: string;
  /** Also log, pretty, to stderr. */
  foreground?: boolean;
  /** `codepiper daemon --web` and its flags; they override the config's `web:` section. */
  web?: WebFlags;
  /** Where notices for the person who started the daemon go (never the log); stderr by default. */
  notify?: (text: string) => void;
  /** Keep the database in memory, gone when the kernel stops (the test kernel's). */
  inMemoryDatabase?: boolean;
}

export interface WebFlags {
  host?: string;
  port?: number;
  tlsCert?: string;
  tlsKey?: string;
}

interface LoadedPlugin {
  plugin: AnyPlugin;
  context: PluginContext<unknown>;
  migrations: Migration[];
  /** What `register` returned. */
  lifecycle: PluginLifecycle;
}

export function createKernel(options: KernelOptions): Kernel {
  return new Kernel(options);
}

/**
 * Loads plugins in dependency order, wires them (`register`), migrates the
 * store, starts them, then serves the API; stops them in reverse. Every
 * failure names its plugin.
 */
export class Kernel {
  readonly paths: KernelPaths;
  readonly hooks = new HookBus();
  readonly container = new ServiceContainer();
  private readonly contributions = new Contributions();
  /** Resolves with the reason once the kernel has stopped, whoever stopped it. */
  readonly stopped: Promise<string>;

  private readonly env: Env;
  private readonly problems = new Problems();
  /** Replaced by the real logger early in `start`, before any plugin code runs. */
  private log: Logger = pino({ enabled: false });
  private logSink?: KernelLogger;
  private api?: ApiServer;
  private store?: KernelStore;
  private homeLock?: HomeLock;
  private registering = false;
  private pidFileWritten = false;
  private webUrl: string | null = null;
  private readonly started: LoadedPlugin[] = [];
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private resolveStopped!: (reason: string) => void;
  private restartAsked = false;

  constructor(private readonly options: KernelOptions) {
    this.env = options.env ?? process.env;
    this.paths = resolvePaths(options.home ? { ...this.env, CODEPIPER_HOME: options.home } : this.env);
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /** The URL of the TCP listener, once it listens (`--web`). */
  get web(): string | null {
    return this.webUrl;
  }

  /** The kernel's logger; plugins have children of it bound to `{ plugin }`. */
  get logger(): Logger {
    return this.log;
  }

  start(): Promise<void> {
    if (this.starting || this.stopping) return Promise.reject(new Error('a kernel starts once'));
    this.starting = this.boot();
    return this.starting;
  }

  /** Stops the API, then the plugins in reverse start order; idempotent. Waits for a start in progress first. */
  async stop(reason: string): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.shutdown(reason);
  }

  /** Stops the kernel soon, letting the caller (say, an API request) finish first. */
  requestStop(reason: string): void {
    setImmediate(() => void this.stop(reason));
  }

  /** Stops the kernel soon, as `requestStop`, for whoever runs it to start another: see `restartRequested`. */
  requestRestart(reason: string): void {
    this.restartAsked = true;
    this.requestStop(reason);
  }

  /** Whether the kernel was stopped to be started again (`POST /daemon/restart`). */
  get restartRequested(): boolean {
    return this.restartAsked;
  }

  private async boot(): Promise<void> {
    try {
      // Before anything is read from the home: config.yaml's `plugins:` load code.
      ensureHome(this.paths);
      // Plugins listed in config.yaml come after the built-in ones.
      const listed = await loadListedPlugins(this.paths.config, this.options.plugins);
      const available = [...this.options.plugins, ...listed];
      const config = loadConfig(this.paths.config, available, this.env);
      // Checked as a graph without the disabled ones: a plugin that uses one of their services is named.
      const plugins = orderPlugins(available.filter((plugin) => !config.disabledPlugins.includes(plugin.name)));
      this.logSink = createLogger({
        file: this.paths.logFile,
        level: config.logLevel,
        foreground: this.options.foreground ?? false,
        onLostLines: (message) => this.problems.report('log', message),
      });
      this.log = this.logSink.log;
      await this.bringUp(plugins, config);
    } catch (error) {
      const expected = error instanceof StartRefused || error instanceof ConfigError || error instanceof PluginLoadError;
      this.log.fatal(expected ? {} : { err: error }, `daemon failed to start: ${messageOf(error)}`);
      await this.shutdown('failed to start');
      throw error;
    }
  }

  private async bringUp(plugins: readonly AnyPlugin[], config: KernelConfig): Promise<void> {
    const web = webListener(config.web, this.options);
    // Before touching anything a running daemon owns, and before any plugin starts.
    this.homeLock = await lockHome(this.paths.home, this.paths.socket);
    await claimSocket(this.paths.socket);
    emptyRunDir(this.paths);

    const control: KernelControl = {
      requestStop: (reason) => this.requestStop(reason),
      requestRestart: (reason) => this.requestRestart(reason),
      plugins: plugins.map((plugin) => ({ name: plugin.name, api: plugin.api })),
      startedAt: new Date(),
      notify: this.options.notify ?? ((text) => void process.stderr.write(`${text}\n`)),
      webEnabled: web !== undefined,
      closeWebSockets: (principal) => this.api?.closeWebSockets(principal),
      reportProblem: (key, message) => this.problems.report(key, message),
    };
    if (web && !web.tls && web.trustProxy === false && !isLoopback(web.host)) {
      const warning = `warning: the web listener on ${web.host} has no TLS: passwords, codes and session cookies would cross the network in clear text. Use --tls-cert/--tls-key, or a TLS reverse proxy (web.trust_proxy).`;
      this.log.warn({ host: web.host }, 'web listener without TLS on a non-loopback address');
      control.notify(warning);
    }
    const api = await ApiServer.create(this.log.child({ component: 'api' }), {
      web,
      authenticate: (request) => this.hooks.call(httpAuthenticate, request),
      checkLocalControl: (request) => this.hooks.call(localControlRequest, request),
    });
    this.api = api;
    serveDaemonEndpoints(api, this.paths, control, { webUrl: () => this.webUrl, problems: this.problems, store: () => this.store! });
    this.contributions.serve(api);

    const loaded = plugins.map((plugin) => this.load(plugin, config.sections.get(plugin.name), api, control));
    this.registering = true;
    try {
      for (const entry of loaded) {
        await inPhase(entry.plugin, 'register', () => {
          entry.lifecycle = entry.plugin.register(entry.context) ?? {};
          const missing = this.container.missing(entry.plugin);
          if (missing.length > 0) throw new Error(`it declares ${missing.map((ref) => `service "${ref.id}"`).join(', ')} in its provides but did not provide it`);
        });
      }
    } finally {
      this.registering = false;
    }

    if (this.options.inMemoryDatabase) {
      this.store = await openStore(IN_MEMORY);
    } else {
      refuseLostDatabase(this.paths.home, this.paths.database);
      this.store = await openStore(this.paths.database);
      markDatabase(this.paths.home, this.paths.database);
    }
    await runMigrations(
      this.store,
      loaded.map(({ plugin, migrations }) => ({ plugin: plugin.name, migrations })),
    );

    for (const entry of loaded) {
      await inPhase(entry.plugin, 'start', () => entry.lifecycle.start?.());
      this.started.push(entry);
    }

    await api.listenUnix(this.paths.socket);
    await api.listenAgents(this.paths.agentSocket);
    this.webUrl = (await api.listenTcp()) ?? null;
    fs.writeFileSync(this.paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
    this.pidFileWritten = true;
    this.log.info({ socket: this.paths.socket, web: this.webUrl, plugins: plugins.map((plugin) => plugin.name) }, 'daemon started');
  }

  private load(plugin: AnyPlugin, config: unknown, api: ApiServer, control: KernelControl): LoadedPlugin {
    const { name } = plugin;
    const log = this.log.child({ plugin: name });
    const services = this.container.forPlugin(plugin);
    const contributions = this.contributions.forPlugin(name);
    const migrations: Migration[] = [];
    const duringRegister = (what: string): void => {
      if (!this.registering) throw new Error(`plugin "${name}": ${what} is only possible during register`);
    };
    const openedStore = (): KernelStore => {
      if (!this.store) throw new Error(`plugin "${name}": the store opens after register; use it from start on`);
      return this.store;
    };
    const context: PluginContext<unknown> = {
      name,
      config,
      paths: this.paths,
      env: this.env,
      log,
      hooks: this.hooks.forPlugin(name, log),
      services: {
        provide: (ref, factory, options) => {
          duringRegister('services.provide');
          services.provide(ref, factory, options);
        },
        get: (ref) => services.get(ref),
      },
      api: {
        handle: (endpoint, handler, options) => {
          duringRegister('api.handle');
          api.handle(endpoint, handler, options);
        },
        handleSocket: (endpoint, handler) => {
          duringRegister('api.handleSocket');
          api.handleSocket(endpoint, handler);
        },
        handleLines: (endpoint, handler) => {
          duringRegister('api.handleLines');
          api.handleLines(endpoint, handler);
        },
        handleFiles: (root, options) => {
          duringRegister('api.handleFiles');
          api.handleFiles(root, options);
        },
      },
      contribute: {
        command: (command) => {
          duringRegister('contribute.command');
          contributions.command(command);
        },
        page: (page) => {
          duringRegister('contribute.page');
          contributions.page(page);
        },
      },
      migrations: (list) => {
        duringRegister('migrations');
        migrations.push(...list);
      },
      get store() {
        return openedStore();
      },
      kernel: control,
    };
    return { plugin, context, migrations, lifecycle: {} };
  }

  private shutdown(reason: string): Promise<void> {
    this.stopping ??= this.teardown(reason);
    return this.stopping;
  }

  private async teardown(reason: string): Promise<void> {
    this.log.info({ reason }, 'daemon stopping');
    await this.attempt('close the API server', () => this.api?.close());
    for (const { plugin, lifecycle } of [...this.started].reverse()) {
      await this.attempt(`stop plugin "${plugin.name}"`, () => lifecycle.stop?.(), { plugin: plugin.name });
    }
    await this.attempt('dispose of the services', () => this.container.dispose());
    await this.attempt('close the store', () => this.store?.close());
    if (this.pidFileWritten) fs.rmSync(this.paths.pidFile, { force: true });
    await this.attempt('release the home', () => this.homeLock?.release());
    this.log.info({ reason }, 'daemon stopped');
    this.logSink?.close();
    this.resolveStopped(reason);
  }

  /** Runs one teardown step; a failure is logged and the next step runs anyway. */
  private async attempt(what: string, step: () => unknown, fields: Record<string, unknown> = {}): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.log.error({ ...fields, err: error }, `failed to ${what}: ${messageOf(error)}`);
    }
  }
}

/** The TCP listener to open, from the config's `web:` section and the flags; undefined when neither asks for one. */
function webListener(settings: WebSettings, options: KernelOptions): WebListener | undefined {
  const flags = options.web;
  if (!flags && !settings.enabled) return undefined;
  const tlsCert = flags?.tlsCert ?? settings.tlsCert;
  const tlsKey = flags?.tlsKey ?? settings.tlsKey;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new Error('TLS needs both a certificate and a key (--tls-cert and --tls-key)');
  return {
    host: flags?.host ?? settings.host,
    port: flags?.port ?? settings.port,
    trustProxy: settings.trustProxy,
    allowedOrigins: settings.allowedOrigins,
    allowedHosts: settings.allowedHosts,
    heartbeatSeconds: settings.heartbeatSeconds,
    ...(tlsCert !== undefined && tlsKey !== undefined && { tls: new TlsFiles(tlsCert, tlsKey) }),
  };
}

async function inPhase(plugin: AnyPlugin, phase: 'register' | 'start', step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (error) {
    throw new Error(`${describePlugin(plugin)} failed to ${phase}: ${messageOf(error)}`, { cause: error });
  }
}

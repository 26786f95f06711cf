import type { AnyPlugin, AnyServiceRef, PluginServices, ServiceRef } from '@codepiper/sdk';
// awilix's build without loadModules: its Node build imports fast-glob (some 40 modules) for that alone, and an
// import() that kept it out of the CLI bundle's compile cache (cli/src/compile-cache.ts).
import { asFunction, createContainer, InjectionMode } from 'awilix/browser';
import { messageOf } from './errors.js';

/**
 * Services by typed reference, each a lazy singleton owned by the plugin that
 * provides it. Disposal is unordered (awilix); ordered teardown is the
 * plugins' `stop`.
 */
export class ServiceContainer {
  private readonly container = createContainer({ strict: true, injectionMode: InjectionMode.PROXY });
  /** Service id → the plugin providing it. */
  private readonly providers = new Map<string, string>();

  /**
   * The container as `plugin` sees it: it may provide only what it declares
   * in `provides` and resolve only what it declares in `uses` (or provides),
   * so that the graph the kernel checked before start is the real one.
   */
  forPlugin(plugin: AnyPlugin): PluginServices {
    const declared = (refs: readonly AnyServiceRef[] | undefined, ref: AnyServiceRef): boolean => (refs ?? []).some((each) => each.id === ref.id);
    return {
      provide: (ref, factory, options) => {
        if (!declared(plugin.provides, ref)) throw new Error(`plugin "${plugin.name}" provides service "${ref.id}" without declaring it in its provides`);
        this.provide(plugin.name, ref, factory, options);
      },
      get: (ref) => {
        if (!declared(plugin.uses, ref) && !declared(plugin.provides, ref)) {
          throw new Error(`plugin "${plugin.name}" uses service "${ref.id}" (${ref.description}) without declaring it in its uses`);
        }
        return this.get(ref, plugin.name);
      },
    };
  }

  /** The services of `provides` that `plugin` did not provide during register. */
  missing(plugin: AnyPlugin): AnyServiceRef[] {
    return (plugin.provides ?? []).filter((ref) => this.providers.get(ref.id) !== plugin.name);
  }

  provide<T>(plugin: string, ref: ServiceRef<T>, factory: () => T, options: { dispose?: (service: T) => void | Promise<void> } = {}): void {
    const provider = this.providers.get(ref.id);
    if (provider !== undefined) {
      throw new Error(`service "${ref.id}" is provided twice: by plugin "${provider}" and by plugin "${plugin}"`);
    }
    this.providers.set(ref.id, plugin);
    const build = (): T => {
      try {
        return factory();
      } catch (error) {
        throw new Error(`service "${ref.id}" of plugin "${plugin}" failed to build: ${messageOf(error)}`, { cause: error });
      }
    };
    const registration = asFunction(build).singleton();
    this.container.register(ref.id, options.dispose ? registration.disposer(options.dispose) : registration);
  }

  /** Resolves a service for `requester`, building it on first use. */
  get<T>(ref: ServiceRef<T>, requester: string): T {
    if (!this.providers.has(ref.id)) {
      throw new Error(`plugin "${requester}" needs service "${ref.id}" (${ref.description}), but no plugin provides it`);
    }
    return this.container.resolve<T>(ref.id);
  }

  /** Runs the disposers of the services that were built. */
  async dispose(): Promise<void> {
    await this.container.dispose();
  }
}

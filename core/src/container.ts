import type { PluginServices, ServiceRef } from '@codepiper/sdk';
import { asFunction, createContainer, InjectionMode } from 'awilix';
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

  forPlugin(plugin: string): PluginServices {
    return {
      provide: (ref, factory, options) => this.provide(plugin, ref, factory, options),
      get: (ref) => this.get(ref, plugin),
    };
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

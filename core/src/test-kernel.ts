/**
 * The in-process test kernel (`@codepiper/core/test-kernel`): the real kernel
 * with only the plugins under test, fakes for the services they use that no
 * plugin of the test provides, and the database in memory. No daemon process,
 * no tmux: a plugin's behaviour is tested in milliseconds, beside its code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, type AnyPlugin, type AnyServiceRef, type HookRef, type ServiceRef } from '@codepiper/sdk';
import { createKernel, type Kernel } from './kernel.js';

/** A stand-in for a service: what `ctx.services.get(ref)` returns to the plugins under test. */
export interface ServiceFake {
  ref: AnyServiceRef;
  service: unknown;
}

export function fakeService<T>(ref: ServiceRef<T>, service: T): ServiceFake {
  return { ref, service };
}

export interface TestKernelOptions {
  plugins: readonly AnyPlugin[];
  /** Fakes for services the plugins use; a fake and a plugin providing one service are refused as two providers. */
  services?: readonly ServiceFake[];
  /** The plugins' sections of `config.yaml`, by plugin name (`{ policies: { default_action: 'deny' } }`). */
  config?: Record<string, unknown>;
  /** What the plugins see as the environment; nothing of the test process's by default. */
  env?: Record<string, string>;
}

export interface TestKernel {
  /** The typed API client, as the CLI uses it (over a socket in the kernel's temporary home). */
  readonly client: ApiClient;
  /** Resolves a service, a plugin's or a fake. */
  service<T>(ref: ServiceRef<T>): T;
  /** Calls a hook as its owner would. */
  callHook<P, R>(ref: HookRef<P, R>, payload: P): Promise<R>;
  /** The kernel's log so far, one parsed JSON object a line. */
  logs(): Record<string, unknown>[];
  /** Stops the plugins and removes the temporary home. */
  stop(): Promise<void>;
}

/** The plugin that provides the fakes, so that the kernel checks and orders them like any provider. */
function fakesPlugin(fakes: readonly ServiceFake[]): AnyPlugin {
  return {
    name: 'test-fakes',
    api: '*',
    description: 'Fake services for a test',
    provides: fakes.map((fake) => fake.ref),
    register(ctx) {
      for (const fake of fakes) ctx.services.provide(fake.ref, () => fake.service);
    },
  };
}

/** Starts the plugins in a kernel of their own; rejects with the kernel's start-up error (a missing service names the plugin and the service). */
export async function createTestKernel(options: TestKernelOptions): Promise<TestKernel> {
  // Unix socket paths are limited to about 107 bytes: keep the home short.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cptk-'));
  // JSON is YAML.
  fs.writeFileSync(path.join(home, 'config.yaml'), `${JSON.stringify({ log_level: 'debug', ...options.config })}\n`);
  const fakes = options.services ?? [];
  const kernel: Kernel = createKernel({
    plugins: [...(fakes.length > 0 ? [fakesPlugin(fakes)] : []), ...options.plugins],
    env: { ...options.env, CODEPIPER_HOME: home },
    inMemoryDatabase: true,
    notify: () => undefined,
  });
  const stop = async (): Promise<void> => {
    await kernel.stop('test over');
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    await kernel.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    client: new ApiClient({ socketPath: kernel.paths.socket }),
    service: (ref) => kernel.container.get(ref, 'test'),
    callHook: (ref, payload) => kernel.hooks.call(ref, payload),
    logs: () =>
      fs
        .readFileSync(kernel.paths.logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop,
  };
}

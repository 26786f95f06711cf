import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServiceRef, type AnyPlugin, type AnyServiceRef } from '@codepiper/sdk';
import { ServiceContainer } from './container.js';

const clockRef = createServiceRef<{ now(): number }>('test.clock', 'The time', '1.0.0');
const missingRef = createServiceRef<unknown>('test.missing', 'Something nobody provides', '1.0.0');

const provider = (name: string): AnyPlugin => ({ name, api: '^1.0.0', description: name, provides: [clockRef], register: () => undefined });
const user = (name: string, uses: AnyServiceRef[]): AnyPlugin => ({ name, api: '^1.0.0', description: name, uses, register: () => undefined });

describe('ServiceContainer', () => {
  it('builds a service once, on first use, and disposes of it', async () => {
    const container = new ServiceContainer();
    let built = 0;
    const disposed: number[] = [];
    container.forPlugin(provider('clock')).provide(clockRef, () => ({ now: () => ++built }), { dispose: (clock) => void disposed.push(clock.now()) });
    assert.equal(built, 0);
    const services = container.forPlugin(user('user', [clockRef]));
    assert.equal(services.get(clockRef), services.get(clockRef));
    assert.equal(built, 0);
    await container.dispose();
    assert.deepEqual(disposed, [1]);
  });

  it('refuses a service provided twice, naming both plugins', () => {
    const container = new ServiceContainer();
    container.forPlugin(provider('clock')).provide(clockRef, () => ({ now: () => 0 }));
    assert.throws(() => container.forPlugin(provider('other-clock')).provide(clockRef, () => ({ now: () => 1 })), {
      message: 'service "test.clock" is provided twice: by plugin "clock" and by plugin "other-clock"',
    });
  });

  it('names the service and the plugin asking for it when nobody provides it', () => {
    const container = new ServiceContainer();
    assert.throws(() => container.forPlugin(user('web', [missingRef])).get(missingRef), {
      message: 'plugin "web" needs service "test.missing" (Something nobody provides), but no plugin provides it',
    });
  });

  it('names the service and its plugin when its factory fails', () => {
    const container = new ServiceContainer();
    container.forPlugin(provider('clock')).provide(clockRef, () => {
      throw new Error('no hardware clock');
    });
    assert.throws(() => container.forPlugin(user('web', [clockRef])).get(clockRef), {
      message: 'service "test.clock" of plugin "clock" failed to build: no hardware clock',
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PluginGraphError, SDK_CONTRACT_VERSION, type AnyPlugin } from '@codepiper/sdk';
import { orderPlugins } from './plugin-graph.js';

const plugin = (name: string, dependencies: string[] = [], contract = SDK_CONTRACT_VERSION): AnyPlugin => ({
  name,
  contract,
  description: `the ${name} plugin`,
  dependencies,
  register: () => undefined,
});

const names = (plugins: readonly AnyPlugin[]): string[] => plugins.map((p) => p.name);

describe('orderPlugins', () => {
  it('puts dependencies first and otherwise keeps the input order', () => {
    const order = orderPlugins([plugin('web', ['auth', 'sessions']), plugin('notes'), plugin('sessions', ['events']), plugin('auth'), plugin('events')]);
    assert.deepEqual(names(order), ['notes', 'auth', 'events', 'sessions', 'web']);
  });

  it('refuses two plugins of one name, describing both', () => {
    const first = { ...plugin('sessions'), description: 'tmux sessions' };
    const second = { ...plugin('sessions'), description: 'screen sessions' };
    assert.throws(() => orderPlugins([first, second]), (error: unknown) => {
      assert.ok(error instanceof PluginGraphError);
      assert.match(error.message, /two plugins are named "sessions": "tmux sessions" and "screen sessions"/);
      return true;
    });
  });

  it('names the plugin and the dependency it lacks', () => {
    assert.throws(() => orderPlugins([plugin('web', ['auth'])]), {
      name: 'PluginGraphError',
      message: 'plugin "web" depends on "auth", which is not installed',
    });
  });

  it('names the plugins of a cycle in order', () => {
    assert.throws(() => orderPlugins([plugin('x'), plugin('a', ['b']), plugin('b', ['c']), plugin('c', ['a'])]), (error: unknown) => {
      assert.ok(error instanceof PluginGraphError);
      assert.equal(error.message, 'dependency cycle: a -> b -> c -> a');
      assert.deepEqual(error.plugins, ['a', 'b', 'c']);
      return true;
    });
    assert.throws(() => orderPlugins([plugin('a', ['a'])]), { message: 'dependency cycle: a -> a' });
  });

  it('names the plugin and both contract versions when they differ', () => {
    assert.throws(() => orderPlugins([plugin('old', [], SDK_CONTRACT_VERSION + 1)]), {
      message: `plugin "old" was written for SDK contract ${SDK_CONTRACT_VERSION + 1}, but this daemon implements contract ${SDK_CONTRACT_VERSION}`,
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServiceRef, PLUGIN_API_VERSION, PluginGraphError, type AnyPlugin, type AnyServiceRef } from '@codepiper/sdk';
import { orderPlugins } from './plugin-graph.js';

const service = (id: string, contract = '1.2.0'): AnyServiceRef => createServiceRef(id, `the ${id} service`, contract);
const [eventsLog, sessionsDirectory, authGate, secretsStore, auditLog] = ['events.log', 'sessions.directory', 'auth.gate', 'secrets.store', 'audit.log'].map((id) => service(id)) as [
  AnyServiceRef,
  AnyServiceRef,
  AnyServiceRef,
  AnyServiceRef,
  AnyServiceRef,
];

const plugin = (name: string, services: { provides?: AnyServiceRef[]; uses?: AnyServiceRef[] } = {}, api = '^1.0.0'): AnyPlugin => ({
  name,
  api,
  description: `the ${name} plugin`,
  ...services,
  register: () => undefined,
});

const names = (plugins: readonly AnyPlugin[]): string[] => plugins.map((p) => p.name);

describe('orderPlugins', () => {
  it('starts the providers of the services a plugin uses first, and otherwise keeps the input order', () => {
    const order = orderPlugins([
      plugin('web', { uses: [authGate, sessionsDirectory] }),
      plugin('notes'),
      plugin('sessions', { provides: [sessionsDirectory], uses: [eventsLog] }),
      plugin('auth', { provides: [authGate] }),
      plugin('events', { provides: [eventsLog] }),
    ]);
    assert.deepEqual(names(order), ['notes', 'auth', 'events', 'sessions', 'web']);
  });

  it('lets a plugin use a service it provides itself', () => {
    assert.deepEqual(names(orderPlugins([plugin('events', { provides: [eventsLog], uses: [eventsLog] })])), ['events']);
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

  it('names the plugin and the service no plugin provides', () => {
    assert.throws(() => orderPlugins([plugin('web', { uses: [authGate] })]), {
      name: 'PluginGraphError',
      message: 'plugin "web" uses service "auth.gate" (the auth.gate service), which no installed plugin provides',
    });
  });

  it('names both plugins that provide one service', () => {
    assert.throws(() => orderPlugins([plugin('vault', { provides: [secretsStore] }), plugin('secrets', { provides: [secretsStore] })]), (error: unknown) => {
      assert.ok(error instanceof PluginGraphError);
      assert.equal(error.message, 'service "secrets.store" (the secrets.store service) is provided by two plugins: "vault" and "secrets"');
      assert.deepEqual(error.plugins, ['vault', 'secrets']);
      return true;
    });
  });

  it('names the plugins of a cycle in order, with the service behind each step', () => {
    // The loop the audit plugin broke: sessions used secrets, secrets the audit trail, which policies kept, which used sessions.
    const plugins = [
      plugin('x'),
      plugin('sessions', { provides: [sessionsDirectory], uses: [secretsStore] }),
      plugin('secrets', { provides: [secretsStore], uses: [auditLog] }),
      plugin('policies', { provides: [auditLog], uses: [sessionsDirectory] }),
    ];
    assert.throws(() => orderPlugins(plugins), (error: unknown) => {
      assert.ok(error instanceof PluginGraphError);
      assert.equal(error.message, 'dependency cycle: sessions -(secrets.store)-> secrets -(audit.log)-> policies -(sessions.directory)-> sessions');
      assert.deepEqual(error.plugins, ['sessions', 'secrets', 'policies']);
      return true;
    });
  });

  it('admits a provider of the same major contract version and at least the minor its user was written for', () => {
    const ledger = (contract: string) => service('analytics.ledger', contract);
    const pair = (provided: string, used: string) => [plugin('analytics', { provides: [ledger(provided)] }), plugin('claude', { uses: [ledger(used)] })];
    for (const [provided, used] of [['1.2.0', '1.2.0'], ['1.3.1', '1.2.0'], ['1.2.0', '1.0.5']]) {
      assert.deepEqual(names(orderPlugins(pair(provided!, used!))), ['analytics', 'claude'], `${provided} for ${used}`);
    }
    for (const [provided, used] of [['2.0.0', '1.2.0'], ['1.2.0', '2.0.0'], ['1.1.0', '1.2.0']]) {
      assert.throws(() => orderPlugins(pair(provided!, used!)), (error: unknown) => {
        assert.ok(error instanceof PluginGraphError);
        assert.equal(error.message, `plugin "claude" uses service "analytics.ledger" of contract ${used}, but plugin "analytics" provides contract ${provided}`);
        assert.deepEqual(error.plugins, ['claude', 'analytics']);
        return true;
      });
    }
  });

  it('names the plugin, the range it needs and the version this daemon provides', () => {
    assert.equal(PLUGIN_API_VERSION.split('.')[0], '1');
    assert.throws(() => orderPlugins([plugin('future', {}, '^2.0.0')]), {
      message: `plugin "future" needs plugin API ^2.0.0, but this daemon provides plugin API ${PLUGIN_API_VERSION}`,
    });
    assert.throws(() => orderPlugins([plugin('old', {}, '0.x')]), { message: `plugin "old" needs plugin API 0.x, but this daemon provides plugin API ${PLUGIN_API_VERSION}` });
    assert.throws(() => orderPlugins([plugin('typo', {}, 'one')]), { message: 'plugin "typo" states plugin API "one", which is not a semver range (like "^1.0.0")' });
  });

  it('accepts any range this version is in', () => {
    for (const range of ['^1.0.0', '1.x', `>=${PLUGIN_API_VERSION} <2`, '*']) assert.deepEqual(names(orderPlugins([plugin('p', {}, range)])), ['p']);
  });
});

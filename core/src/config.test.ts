import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { AnyPlugin } from '@codepiper/sdk';
import * as Type from '@sinclair/typebox';
import { ConfigError, loadConfig } from './config.js';
import { tempDir } from './testing.js';

const sessions: AnyPlugin = {
  name: 'sessions',
  api: '^1.0.0',
  description: 'Sessions',
  config: Type.Object({
    stop_timeout_ms: Type.Integer({ minimum: 0, default: 5000 }),
    shell: Type.Optional(Type.Union([Type.Literal('bash'), Type.Literal('zsh')])),
    limits: Type.Optional(Type.Object({ max: Type.Integer() }, { additionalProperties: false })),
  }),
  register: () => undefined,
};
const events: AnyPlugin = { name: 'events', api: '^1.0.0', description: 'Events', register: () => undefined };

function configFile(t: TestContext, text: string): string {
  const file = path.join(tempDir(t), 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/** Asserts that loading `text` fails with this message (after the file name) and key. */
function assertFails(t: TestContext, text: string, message: string, key: string | undefined): void {
  const file = configFile(t, text);
  assert.throws(() => loadConfig(file, [sessions, events], {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, `${file}${message}`);
    assert.equal(error.file, file);
    assert.equal(error.key, key);
    return true;
  });
}

describe('loadConfig', () => {
  it('applies defaults when there is no file', (t) => {
    const config = loadConfig(path.join(tempDir(t), 'config.yaml'), [sessions, events], {});
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.plugins, []);
    assert.deepEqual(config.disabledPlugins, []);
    assert.deepEqual(config.sections.get('sessions'), { stop_timeout_ms: 5000 });
    assert.deepEqual(config.sections.get('events'), {});
  });

  it('reads the kernel’s settings and each plugin’s section', (t) => {
    const file = configFile(t, 'log_level: debug\nplugins: [./mine.js]\ndisabled_plugins: [events]\nsessions:\n  shell: zsh\n');
    const config = loadConfig(file, [sessions, events], {});
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.plugins, ['./mine.js']);
    assert.deepEqual(config.disabledPlugins, ['events']);
    assert.deepEqual(config.sections.get('sessions'), { stop_timeout_ms: 5000, shell: 'zsh' });
  });

  it('takes the log level from CODEPIPER_LOG_LEVEL first, and checks it', (t) => {
    const file = configFile(t, 'log_level: debug\n');
    assert.equal(loadConfig(file, [], { CODEPIPER_LOG_LEVEL: 'warn' }).logLevel, 'warn');
    assert.throws(() => loadConfig(file, [], { CODEPIPER_LOG_LEVEL: 'loud' }), {
      name: 'ConfigError',
      message: 'CODEPIPER_LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    });
  });

  it('names the file, line:column, key and what was expected', (t) => {
    assertFails(t, 'log_level: info\n\nsessions:\n  stop_timeout_ms: soon\n', ':4:3: sessions.stop_timeout_ms: expected integer, got "soon"', 'sessions.stop_timeout_ms');
    assertFails(t, 'sessions:\n  shell: fish\n', ':2:3: sessions.shell: expected one of "bash", "zsh", got "fish"', 'sessions.shell');
    assertFails(t, 'sessions:\n  limits:\n    max: 3\n    mix: 4\n', ':4:5: sessions.limits.mix: unknown setting', 'sessions.limits.mix');
    assertFails(t, 'log_level: loud\n', ':1:1: log_level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "loud"', 'log_level');
    assertFails(t, 'plugins:\n  - ok\n  - 3\n', ':3:5: plugins.1: expected string, got 3', 'plugins.1');
    assertFails(t, 'disabled_plugins: [events, sesions]\n', ':1:28: disabled_plugins.1: no plugin is named "sesions"; the plugins are sessions, events', 'disabled_plugins.1');
  });

  it('refuses unknown top-level keys and settings for a plugin that has none', (t) => {
    assertFails(t, 'sesions:\n  stop_timeout_ms: 1\n', ':1:1: sesions: unknown setting; expected log_level, plugins, disabled_plugins, web, sessions, events', 'sesions');
    assertFails(t, 'events:\n  keep: 10\n', ':1:1: events: this plugin has no settings', 'events');
  });

  it('reads the web listener’s section: loopback by default, TLS files in pairs', (t) => {
    const defaults = loadConfig(path.join(tempDir(t), 'config.yaml'), [], {}).web;
    assert.deepEqual(defaults, { enabled: false, host: '127.0.0.1', port: 4280, trustProxy: false, allowedOrigins: [], allowedHosts: [], heartbeatSeconds: 30, tlsCert: undefined, tlsKey: undefined });
    const file = configFile(t, 'web:\n  enabled: true\n  trust_proxy: [10.0.0.0/8]\n  allowed_origins: ["https://cp.example.org"]\n  allowed_hosts: [cp.example.org, "devbox.lan:4280", "[::1]:8443"]\n');
    const web = loadConfig(file, [], {}).web;
    assert.deepEqual([web.enabled, web.trustProxy, web.allowedOrigins, web.allowedHosts], [true, ['10.0.0.0/8'], ['https://cp.example.org'], ['cp.example.org', 'devbox.lan:4280', '[::1]:8443']]);
    for (const bad of ['https://cp.example.org', 'cp.example.org/x', 'a b', 'host:port']) {
      assert.throws(() => loadConfig(configFile(t, `web:\n  allowed_hosts: [${JSON.stringify(bad)}]\n`), [], {}), /web\.allowed_hosts\.0: expected string to match/, bad);
    }
    assertFails(t, 'web:\n  tls_cert: /etc/cert.pem\n', ':2:3: web.tls_cert: give tls_cert and tls_key together', 'web.tls_cert');
    assertFails(t, 'web:\n  heartbeat_s: 0\n', ':2:3: web.heartbeat_s: expected integer to be greater or equal to 1, got 0', 'web.heartbeat_s');
    assertFails(t, 'web:\n  allowed_origins: ["https://x.org/path"]\n', `:2:21: web.allowed_origins.0: expected string to match '^https?://[^/]+$', got "https://x.org/path"`, 'web.allowed_origins.0');
  });

  it('reports YAML syntax errors with their position', (t) => {
    const file = configFile(t, 'sessions:\n  stop_timeout_ms: 1\n bad: [\n');
    assert.throws(() => loadConfig(file, [sessions], {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`^${file}:\\d+:\\d+: \\S`));
      assert.equal(error.key, undefined);
      return true;
    });
  });
});

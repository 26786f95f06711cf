import fs from 'node:fs';
import { YamlError, YamlSource, type AnyPlugin } from '@codepiper/sdk';
import * as Type from '@sinclair/typebox';
import type { Env } from './paths.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A setting is wrong; the message names where (file or variable, line:column when known), the key and what was expected. */
export class ConfigError extends Error {
  constructor(
    /** The file, or the environment variable, at fault. */
    readonly file: string,
    /** Dotted path of the setting, e.g. `sessions.stop_timeout_ms`; undefined when the file does not parse. */
    readonly key: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The `web:` section: the TCP listener of `codepiper daemon --web` (its flags override these). */
export interface WebSettings {
  enabled: boolean;
  host: string;
  port: number;
  trustProxy: boolean | string[];
  allowedOrigins: string[];
  allowedHosts: string[];
  heartbeatSeconds: number;
  tlsCert?: string;
  tlsKey?: string;
}

export const DEFAULT_WEB_PORT = 4280;

export interface KernelConfig {
  logLevel: LogLevel;
  web: WebSettings;
  /** Extra plugin packages or paths to load. */
  plugins: string[];
  /** Plugins (built in or listed) not to load: their features are absent from the API, the CLI and the dashboard. */
  disabledPlugins: string[];
  /** Each plugin's section, validated, defaults applied. */
  sections: ReadonlyMap<string, unknown>;
}

const WebSection = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Listen on TCP as `--web` does' }),
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_WEB_PORT }),
    trust_proxy: Type.Union([Type.Boolean(), Type.Array(Type.String({ minLength: 1 }))], {
      default: false,
      description: 'Behind a reverse proxy: true, or the proxy addresses/CIDRs whose X-Forwarded-For/-Proto/-Host are believed',
    }),
    allowed_origins: Type.Array(Type.String({ pattern: '^https?://[^/]+$' }), { default: [], description: 'Origins besides the listener’s own (scheme://host:port)' }),
    allowed_hosts: Type.Array(Type.String({ pattern: '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$' }), {
      default: [],
      description: 'Host names besides the listener’s own address it answers to (a reverse proxy’s, a DNS name): `name` at any port, or `name:port`',
    }),
    heartbeat_s: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'How often WebSocket clients are pinged; one that has not answered by the next ping is disconnected. Below a proxy’s idle timeout, it keeps quiet terminals connected',
    }),
    tls_cert: Type.Optional(Type.String({ minLength: 1 })),
    tls_key: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const KernelSettings = Type.Object({
  log_level: Type.Optional(Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)))),
  plugins: Type.Optional(Type.Array(Type.String())),
  disabled_plugins: Type.Optional(Type.Array(Type.String())),
  web: Type.Optional(WebSection),
});
const KERNEL_KEYS = Object.keys(KernelSettings.properties);

/** Reads `file` (a missing file is an empty one) and validates each section against its owner's schema. */
export function loadConfig(file: string, plugins: readonly AnyPlugin[], env: Env): KernelConfig {
  try {
    return readConfig(file, plugins, env);
  } catch (error) {
    if (error instanceof YamlError) throw new ConfigError(error.source, error.key, error.message);
    throw error;
  }
}

function readConfig(file: string, plugins: readonly AnyPlugin[], env: Env): KernelConfig {
  const source = new YamlSource(readIfExists(file) ?? '', file);
  const root = source.value() ?? {};
  if (!isRecord(root)) throw new ConfigError(file, undefined, `${file}: expected a mapping of settings`);

  const owners = new Set(plugins.map((plugin) => plugin.name));
  for (const key of Object.keys(root)) {
    if (!KERNEL_KEYS.includes(key) && !owners.has(key)) {
      source.fail([key], `unknown setting; expected ${[...KERNEL_KEYS, ...owners].join(', ')}`);
    }
  }

  const kernel = source.validate(KernelSettings, { log_level: root.log_level, plugins: root.plugins, disabled_plugins: root.disabled_plugins, web: root.web ?? {} }, []);
  for (const [i, name] of (kernel.disabled_plugins ?? []).entries()) {
    if (!owners.has(name)) source.fail(['disabled_plugins', i], `no plugin is named "${name}"; the plugins are ${[...owners].join(', ')}`);
  }
  const sections = new Map<string, unknown>();
  for (const plugin of plugins) {
    const section = root[plugin.name];
    if (plugin.config) {
      sections.set(plugin.name, source.validate(plugin.config, section ?? {}, [plugin.name]));
    } else if (section != null) {
      source.fail([plugin.name], 'this plugin has no settings');
    } else {
      sections.set(plugin.name, {});
    }
  }
  const web = kernel.web!;
  if ((web.tls_cert === undefined) !== (web.tls_key === undefined)) source.fail(['web', web.tls_cert === undefined ? 'tls_key' : 'tls_cert'], 'give tls_cert and tls_key together');
  return {
    logLevel: logLevelFromEnv(env) ?? kernel.log_level ?? 'info',
    web: { enabled: web.enabled, host: web.host, port: web.port, trustProxy: web.trust_proxy, allowedOrigins: web.allowed_origins, allowedHosts: web.allowed_hosts, heartbeatSeconds: web.heartbeat_s, tlsCert: web.tls_cert, tlsKey: web.tls_key },
    plugins: kernel.plugins ?? [],
    disabledPlugins: kernel.disabled_plugins ?? [],
    sections,
  };
}

function logLevelFromEnv(env: Env): LogLevel | undefined {
  const level = env.CODEPIPER_LOG_LEVEL;
  if (!level) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('CODEPIPER_LOG_LEVEL', 'log_level', `CODEPIPER_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  return level as LogLevel;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

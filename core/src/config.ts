import fs from 'node:fs';
import type { AnyPlugin } from '@codepiper/sdk';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Scalar } from 'yaml';
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
  tlsCert?: string;
  tlsKey?: string;
}

export const DEFAULT_WEB_PORT = 4280;

export interface KernelConfig {
  logLevel: LogLevel;
  web: WebSettings;
  /** Extra plugin packages or paths to load (reserved). */
  plugins: string[];
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
    tls_cert: Type.Optional(Type.String({ minLength: 1 })),
    tls_key: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const KernelSettings = Type.Object({
  log_level: Type.Optional(Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)))),
  plugins: Type.Optional(Type.Array(Type.String())),
  web: Type.Optional(WebSection),
});
const KERNEL_KEYS = Object.keys(KernelSettings.properties);

/** Reads `file` (a missing file is an empty one) and validates each section against its owner's schema. */
export function loadConfig(file: string, plugins: readonly AnyPlugin[], env: Env): KernelConfig {
  const source = new ConfigSource(file);
  const root = source.root();

  const owners = new Set(plugins.map((plugin) => plugin.name));
  for (const key of Object.keys(root)) {
    if (!KERNEL_KEYS.includes(key) && !owners.has(key)) {
      source.fail([key], `unknown setting; expected ${[...KERNEL_KEYS, ...owners].join(', ')}`);
    }
  }

  const kernel = source.validate(KernelSettings, { log_level: root.log_level, plugins: root.plugins, web: root.web ?? {} }, []);
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
    web: { enabled: web.enabled, host: web.host, port: web.port, trustProxy: web.trust_proxy, allowedOrigins: web.allowed_origins, allowedHosts: web.allowed_hosts, tlsCert: web.tls_cert, tlsKey: web.tls_key },
    plugins: kernel.plugins ?? [],
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

/** The parsed file, able to point at the line and column of any key. */
class ConfigSource {
  private readonly lines = new LineCounter();
  private readonly document: Document;

  constructor(private readonly file: string) {
    this.document = parseDocument(readIfExists(file) ?? '', { lineCounter: this.lines });
    const [error] = this.document.errors;
    if (error) {
      // yaml appends " at line L, column C:" and a code excerpt; the prefix says where already.
      const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new ConfigError(file, undefined, `${file}${this.position(error.pos[0])}: ${what}`);
    }
  }

  root(): Record<string, unknown> {
    const root: unknown = this.document.toJS() ?? {};
    if (!isRecord(root)) throw new ConfigError(this.file, undefined, `${this.file}: expected a mapping of settings`);
    return root;
  }

  /** Applies the schema's defaults to `value` and checks it; fails on the first error. */
  validate<S extends TSchema>(schema: S, value: unknown, at: readonly string[]): Static<S> {
    const withDefaults: unknown = Value.Default(schema, value);
    const error = Value.Errors(schema, withDefaults).First();
    if (error) this.fail([...at, ...pointerKeys(error.path)], describe(error));
    return withDefaults as Static<S>;
  }

  fail(keys: readonly string[], message: string): never {
    const key = keys.join('.');
    throw new ConfigError(this.file, key, `${this.file}${this.position(this.offsetOf(keys))}: ${key}: ${message}`);
  }

  /** Where the deepest existing node along `keys` starts: the key itself for a mapping entry. */
  private offsetOf(keys: readonly string[]): number | undefined {
    let node: unknown = this.document.contents;
    let offset: number | undefined;
    for (const key of keys) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
        if (!pair) break;
        offset = (pair.key as Scalar).range?.[0];
        node = pair.value;
      } else if (isSeq(node) && isNode(node.items[Number(key)])) {
        node = node.items[Number(key)];
        offset = (node as Node).range?.[0];
      } else {
        break;
      }
    }
    return offset;
  }

  private position(offset: number | undefined): string {
    if (offset === undefined) return '';
    const { line, col } = this.lines.linePos(offset);
    return `:${line}:${col}`;
  }
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

/** `/a/0/b~1c` → `['a', '0', 'b/c']` */
function pointerKeys(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(error: ValueError): string {
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing; this setting is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown setting';
  }
  const choices = (error.schema.anyOf as TSchema[] | undefined)?.map((option) => option.const as unknown);
  const expected =
    error.type === ValueErrorType.Union && choices?.every((choice) => choice !== undefined)
      ? `expected one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`
      : error.message.charAt(0).toLowerCase() + error.message.slice(1);
  return `${expected}, got ${JSON.stringify(error.value)}`;
}

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { YamlSource, type AnyPlugin } from '@codepiper/sdk';
import { messageOf } from './errors.js';
import { importModule } from './import-module.js';
import { apiRangeProblem } from './plugin-graph.js';

/** A plugin listed under `plugins:` in config.yaml could not be loaded. */
export class PluginLoadError extends Error {
  constructor(
    /** The entry as written in config.yaml. */
    readonly entry: string,
    /** The module file, once resolved. */
    readonly file: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PluginLoadError';
  }
}

interface ListedPlugin {
  entry: string;
  /** `FILE:LINE:COL` of the entry in config.yaml. */
  where: string;
}

/** The file each plugin listed in config.yaml was loaded from, for error messages. */
const origins = new WeakMap<AnyPlugin, string>();

/** `plugin "name"`, followed by its file for a plugin listed in config.yaml. */
export function describePlugin(plugin: AnyPlugin): string {
  const file = origins.get(plugin);
  return file ? `plugin "${plugin.name}" (${file})` : `plugin "${plugin.name}"`;
}

/**
 * Imports the plugins listed under `plugins:` in `configFile` (npm package
 * names, or paths relative to the file), in the order listed. Each must
 * export a plugin definition as its default export, for a plugin API range
 * this daemon's version is in, with a name no other plugin has.
 */
export async function loadListedPlugins(configFile: string, installed: readonly AnyPlugin[]): Promise<AnyPlugin[]> {
  const taken = new Set(installed.map((plugin) => plugin.name));
  const loaded: AnyPlugin[] = [];
  for (const listed of listedPlugins(configFile)) {
    const file = resolveEntry(listed, path.dirname(configFile));
    const fail = (message: string): never => {
      throw new PluginLoadError(listed.entry, file, `${listed.where}: plugin "${listed.entry}" (${file}): ${message}`);
    };
    let module: { default?: unknown };
    try {
      module = (await importModule(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      return fail(`failed to load: ${messageOf(error)}`);
    }
    const plugin = module.default;
    if (!isPluginDefinition(plugin)) {
      return fail('its default export is not a plugin definition (export default definePlugin({ name, api, description, register }))');
    }
    const problem = apiRangeProblem(plugin);
    if (problem) fail(`"${plugin.name}" ${problem}`);
    if (taken.has(plugin.name)) fail(`another plugin is already named "${plugin.name}"`);
    taken.add(plugin.name);
    origins.set(plugin, file);
    loaded.push(plugin);
  }
  return loaded;
}

/**
 * The string entries of `plugins:` with their positions. Anything malformed
 * is left for the config validation to report with its usual message.
 */
function listedPlugins(configFile: string): ListedPlugin[] {
  let text: string;
  try {
    text = fs.readFileSync(configFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const source = new YamlSource(text, configFile, { keepSyntaxErrors: true });
  const config = source.syntaxErrors.length === 0 ? source.value() : null;
  const plugins = typeof config === 'object' && config !== null ? (config as { plugins?: unknown }).plugins : undefined;
  if (!Array.isArray(plugins)) return [];
  return plugins.flatMap((entry, index) => (typeof entry === 'string' ? [{ entry, where: source.where(['plugins', index]) }] : []));
}

const isPath = (entry: string): boolean => entry.startsWith('.') || path.isAbsolute(entry);

/**
 * A path is taken relative to the config file. A package name is looked up
 * from the config file's directory (`npm install` in the CodePiper home), then
 * from the daemon's own installation (a package installed beside it).
 */
function resolveEntry(listed: ListedPlugin, configDir: string): string {
  const bases = isPath(listed.entry) ? [configDir] : [configDir, import.meta.dirname];
  const target = isPath(listed.entry) ? path.resolve(configDir, listed.entry) : listed.entry;
  let firstError: unknown;
  for (const base of bases) {
    try {
      return createRequire(path.join(base, 'noop.js')).resolve(target);
    } catch (error) {
      firstError ??= error;
    }
  }
  const code = (firstError as NodeJS.ErrnoException).code;
  const why =
    code === 'MODULE_NOT_FOUND'
      ? isPath(listed.entry)
        ? `no such file: ${target}`
        : `package not found (install it in ${configDir}, or beside CodePiper)`
      : messageOf(firstError);
  throw new PluginLoadError(listed.entry, undefined, `${listed.where}: plugin "${listed.entry}": ${why}`);
}

function isPluginDefinition(value: unknown): value is AnyPlugin {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.name === 'string' && typeof candidate.api === 'string' && typeof candidate.register === 'function';
}

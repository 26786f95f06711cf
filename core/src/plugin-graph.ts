import { PLUGIN_API_VERSION, PluginGraphError, type AnyPlugin, type AnyServiceRef } from '@codepiper/sdk';
import semver from 'semver';

/** A plugin's edge to a plugin it needs: the provider of a service it uses. */
interface Need {
  provider: AnyPlugin;
  service: AnyServiceRef;
}

/**
 * Checks the plugins before anything starts (names unique, the plugin API
 * version within each one's range, every used service provided by exactly
 * one plugin, no cycle) and returns them in start order: every plugin after
 * the providers of the services it uses, ties kept in input order.
 */
export function orderPlugins(plugins: readonly AnyPlugin[]): AnyPlugin[] {
  const byName = new Map<string, AnyPlugin>();
  for (const plugin of plugins) {
    const other = byName.get(plugin.name);
    if (other) {
      throw new PluginGraphError(`two plugins are named "${plugin.name}": "${other.description}" and "${plugin.description}"`, [plugin.name]);
    }
    const problem = apiRangeProblem(plugin);
    if (problem) throw new PluginGraphError(`plugin "${plugin.name}" ${problem}`, [plugin.name]);
    byName.set(plugin.name, plugin);
  }
  const needs = neededProviders(plugins);

  const order: AnyPlugin[] = [];
  const placed = new Set<AnyPlugin>();
  const isReady = (plugin: AnyPlugin): boolean => needs.get(plugin)!.every((need) => placed.has(need.provider));
  let waiting = [...plugins];
  while (waiting.length > 0) {
    const next = waiting.find(isReady);
    if (!next) {
      const cycle = findCycle(waiting[0]!, needs, placed);
      throw new PluginGraphError(`dependency cycle: ${describeCycle(cycle)}`, cycle.map((step) => step.plugin.name));
    }
    order.push(next);
    placed.add(next);
    waiting = waiting.filter((plugin) => plugin !== next);
  }
  return order;
}

/** What is wrong with a plugin's API range (`needs plugin API ^2.0.0, but...`), or undefined when this daemon's version is in it. */
export function apiRangeProblem(plugin: AnyPlugin): string | undefined {
  if (semver.validRange(plugin.api) === null) return `states plugin API "${plugin.api}", which is not a semver range (like "^1.0.0")`;
  if (!semver.satisfies(PLUGIN_API_VERSION, plugin.api)) return `needs plugin API ${plugin.api}, but this daemon provides plugin API ${PLUGIN_API_VERSION}`;
  return undefined;
}

/**
 * For each plugin, the plugins providing the services it uses (itself
 * excluded), each checked to provide a contract version the user works with.
 */
function neededProviders(plugins: readonly AnyPlugin[]): Map<AnyPlugin, Need[]> {
  const providers = new Map<string, Need>();
  for (const plugin of plugins) {
    for (const service of plugin.provides ?? []) {
      const other = providers.get(service.id);
      if (other) {
        throw new PluginGraphError(`service "${service.id}" (${service.description}) is provided by two plugins: "${other.provider.name}" and "${plugin.name}"`, [other.provider.name, plugin.name]);
      }
      providers.set(service.id, { provider: plugin, service });
    }
  }
  return new Map(
    plugins.map((plugin) => [
      plugin,
      (plugin.uses ?? []).flatMap((service) => {
        const provided = providers.get(service.id);
        if (!provided) {
          throw new PluginGraphError(`plugin "${plugin.name}" uses service "${service.id}" (${service.description}), which no installed plugin provides`, [plugin.name]);
        }
        const { provider } = provided;
        if (!semver.satisfies(provided.service.contract, `^${service.contract}`)) {
          throw new PluginGraphError(
            `plugin "${plugin.name}" uses service "${service.id}" of contract ${service.contract}, but plugin "${provider.name}" provides contract ${provided.service.contract}`,
            [plugin.name, provider.name],
          );
        }
        return provider === plugin ? [] : [{ provider, service }];
      }),
    ]),
  );
}

/** One step of a cycle: `plugin` uses `service`, which the next step's plugin provides. */
interface CycleStep {
  plugin: AnyPlugin;
  service: AnyServiceRef;
}

/** Follows unplaced providers from `start` until a plugin repeats; returns the loop from its first plugin. */
function findCycle(start: AnyPlugin, needs: ReadonlyMap<AnyPlugin, Need[]>, placed: ReadonlySet<AnyPlugin>): CycleStep[] {
  const path: CycleStep[] = [];
  let current = start;
  while (!path.some((step) => step.plugin === current)) {
    const need = needs.get(current)!.find((candidate) => !placed.has(candidate.provider))!;
    path.push({ plugin: current, service: need.service });
    current = need.provider;
  }
  return path.slice(path.findIndex((step) => step.plugin === current));
}

/** `a -(b.service)-> b -(a.service)-> a`: each arrow names the service its tail uses from its head. */
function describeCycle(cycle: readonly CycleStep[]): string {
  const arrows = cycle.map((step, i) => ` -(${step.service.id})-> ${cycle[(i + 1) % cycle.length]!.plugin.name}`);
  return cycle[0]!.plugin.name + arrows.join('');
}

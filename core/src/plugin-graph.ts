import { PluginGraphError, SDK_CONTRACT_VERSION, type AnyPlugin } from '@codepiper/sdk';

/**
 * Checks the plugins before anything starts (names unique, contract versions
 * matching, dependencies present and acyclic) and returns them in start
 * order: every plugin after its dependencies, ties kept in input order.
 */
export function orderPlugins(plugins: readonly AnyPlugin[]): AnyPlugin[] {
  const byName = new Map<string, AnyPlugin>();
  for (const plugin of plugins) {
    const other = byName.get(plugin.name);
    if (other) {
      throw new PluginGraphError(
        `two plugins are named "${plugin.name}": "${other.description}" and "${plugin.description}"`,
        [plugin.name],
      );
    }
    if (plugin.contract !== SDK_CONTRACT_VERSION) {
      throw new PluginGraphError(
        `plugin "${plugin.name}" was written for SDK contract ${plugin.contract}, but this daemon implements contract ${SDK_CONTRACT_VERSION}`,
        [plugin.name],
      );
    }
    byName.set(plugin.name, plugin);
  }
  for (const plugin of plugins) {
    for (const dependency of plugin.dependencies ?? []) {
      if (!byName.has(dependency)) {
        throw new PluginGraphError(`plugin "${plugin.name}" depends on "${dependency}", which is not installed`, [plugin.name, dependency]);
      }
    }
  }

  const order: AnyPlugin[] = [];
  const placed = new Set<string>();
  const isReady = (plugin: AnyPlugin): boolean => (plugin.dependencies ?? []).every((dependency) => placed.has(dependency));
  let waiting = [...plugins];
  while (waiting.length > 0) {
    const next = waiting.find(isReady);
    if (!next) {
      const cycle = findCycle(waiting[0]!, byName, placed);
      throw new PluginGraphError(`dependency cycle: ${cycle.join(' -> ')}`, cycle.slice(0, -1));
    }
    order.push(next);
    placed.add(next.name);
    waiting = waiting.filter((plugin) => plugin !== next);
  }
  return order;
}

/** Follows unplaced dependencies from `start` until a plugin repeats; returns the loop, its first plugin repeated last. */
function findCycle(start: AnyPlugin, byName: ReadonlyMap<string, AnyPlugin>, placed: ReadonlySet<string>): string[] {
  const path: string[] = [];
  let current = start;
  while (!path.includes(current.name)) {
    path.push(current.name);
    const unplaced = current.dependencies!.find((dependency) => !placed.has(dependency))!;
    current = byName.get(unplaced)!;
  }
  return [...path.slice(path.indexOf(current.name)), current.name];
}

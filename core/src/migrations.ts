import type { Migration, Store } from '@codepiper/sdk';
import { messageOf } from './errors.js';

export interface PluginMigrations {
  plugin: string;
  migrations: readonly Migration[];
}

/**
 * Brings each plugin's tables up to date, plugin by plugin in the given
 * order. Each migration runs in its own transaction with the `_migrations`
 * row recording it, so a failure leaves no trace of it.
 */
export async function runMigrations(store: Store, plan: readonly PluginMigrations[]): Promise<void> {
  const sorted = plan.map(({ plugin, migrations }) => ({ plugin, migrations: checkedVersions(plugin, migrations) }));
  await store.exec(`CREATE TABLE IF NOT EXISTS _migrations (
    plugin TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (plugin, version)
  )`);
  // One query for all plugins: a start that finds the tables up to date, the usual one, asks nothing more.
  const rows = await store.all<{ plugin: string; version: number }>('SELECT plugin, MAX(version) AS version FROM _migrations GROUP BY plugin');
  const applied = new Map(rows.map((row) => [row.plugin, row.version]));
  for (const { plugin, migrations } of sorted) await migrate(store, plugin, migrations, applied.get(plugin) ?? 0);
}

/** Sorts by version, which must run 1, 2, 3... without gaps or repeats. */
function checkedVersions(plugin: string, migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  if (sorted.some((migration, index) => migration.version !== index + 1)) {
    const versions = sorted.map((migration) => migration.version).join(', ');
    throw new Error(`plugin "${plugin}" declares migrations ${versions}: versions must be 1, 2, 3... with no gap or repeat`);
  }
  return sorted;
}

/** Runs the migrations of `plugin` after the `applied` ones. */
async function migrate(store: Store, plugin: string, migrations: readonly Migration[], applied: number): Promise<void> {
  if (applied > migrations.length) {
    throw new Error(
      `plugin "${plugin}": the database is at its migration ${applied}, but the plugin knows only ${migrations.length}; was it written by a newer version?`,
    );
  }
  for (const migration of migrations.slice(applied)) {
    try {
      await store.transaction(async (tx) => {
        if (typeof migration.up === 'string') await tx.exec(migration.up);
        else await migration.up(tx);
        await tx.run('INSERT INTO _migrations (plugin, version, name, applied_at) VALUES (?, ?, ?, ?)', [
          plugin,
          migration.version,
          migration.name,
          new Date().toISOString(),
        ]);
      });
    } catch (error) {
      throw new Error(`plugin "${plugin}": migration ${migration.version} "${migration.name}" failed: ${messageOf(error)}`, { cause: error });
    }
  }
}

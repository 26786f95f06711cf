import { CODEPIPER_VERSION, daemonEndpoints, PLUGIN_API_VERSION, type ApiRegistrar, type KernelControl, type Store } from '@codepiper/sdk';
import { backUpDatabase } from './backup.js';
import type { KernelPaths } from './paths.js';
import type { Problems } from './problems.js';

/** The kernel's own endpoints: liveness, status, backup, stop and restart. */
export function serveDaemonEndpoints(api: ApiRegistrar, paths: KernelPaths, control: KernelControl, now: { webUrl: () => string | null; problems: Problems; store: () => Store }): void {
  api.handle(daemonEndpoints.health, async () => ({ ok: true as const, version: CODEPIPER_VERSION }));
  api.handle(daemonEndpoints.status, async () => ({
    pid: process.pid,
    version: CODEPIPER_VERSION,
    home: paths.home,
    socket: paths.socket,
    database: paths.database,
    startedAt: control.startedAt.toISOString(),
    uptimeSeconds: (Date.now() - control.startedAt.getTime()) / 1000,
    pluginApi: PLUGIN_API_VERSION,
    plugins: [...control.plugins],
    web: now.webUrl(),
    problems: now.problems.list(),
  }));
  api.handle(daemonEndpoints.backup, async ({ body }) => backUpDatabase(now.store(), body.path));
  api.handle(daemonEndpoints.stop, async () => {
    control.requestStop('asked over the API');
    return { ok: true as const };
  });
  api.handle(daemonEndpoints.restart, async () => {
    control.requestRestart('restart asked over the API');
    return { pid: process.pid };
  });
}

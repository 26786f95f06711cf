import { definePlugin, describeOrigin } from '@codepiper/sdk';
import { envSetEndpoints, workspaceEndpoints } from '@codepiper/workspaces-contract';
import { policySetsRef } from '@codepiper/policies-contract';
import { providerRegistryRef, sessionControlRef } from '@codepiper/sessions-contract';
import { migrations } from './migrations.js';
import { Workspaces } from './workspaces.js';

export default definePlugin({
  name: 'workspaces',
  api: '^1.0.0',
  description: 'Workspaces (a directory and its sessions’ defaults: provider, env set, policy set, worktree) and named env sets; start -w NAME',
  uses: [policySetsRef, providerRegistryRef, sessionControlRef],
  register(ctx) {
    let workspaces: Workspaces | undefined;
    const running = (): Workspaces => {
      if (!workspaces) throw new Error('the workspaces plugin has not started');
      return workspaces;
    };
    ctx.migrations(migrations);
    ctx.api.handle(workspaceEndpoints.list, async () => ({ workspaces: await running().list() }));
    ctx.api.handle(workspaceEndpoints.show, ({ params }) => running().get(params.name));
    ctx.api.handle(workspaceEndpoints.create, ({ body: { name, ...fields } }) => running().create(name, fields));
    ctx.api.handle(workspaceEndpoints.update, ({ params, body }) => running().update(params.name, body));
    ctx.api.handle(workspaceEndpoints.remove, async ({ params }) => {
      await running().remove(params.name);
      return { ok: true as const };
    });
    ctx.api.handle(workspaceEndpoints.start, ({ params, body, origin }) => running().start(params.name, body, describeOrigin(origin)));
    ctx.api.handle(envSetEndpoints.list, async () => ({ envSets: await running().envSets() }));
    ctx.api.handle(envSetEndpoints.show, ({ params }) => running().envSet(params.name));
    ctx.api.handle(envSetEndpoints.put, ({ params, body }) => running().putEnvSet(params.name, body));
    ctx.api.handle(envSetEndpoints.remove, async ({ params }) => {
      await running().removeEnvSet(params.name);
      return { ok: true as const };
    });
    return {
      start() {
        workspaces = new Workspaces({
          store: ctx.store,
          providers: () => ctx.services.get(providerRegistryRef),
          sessions: () => ctx.services.get(sessionControlRef),
          policySets: () => ctx.services.get(policySetsRef),
        });
      },
    };
  },
});

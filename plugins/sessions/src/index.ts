import os from 'node:os';
import path from 'node:path';
import { definePlugin, localControlRequest } from '@codepiper/sdk';
import { eventAppended, eventLogRef } from '@codepiper/events-contract';
import { providerRegistryRef, sessionControlRef, sessionDirectoryRef } from '@codepiper/sessions-contract';
import { judgeControlRequest, type SessionProcesses } from './control-guard.js';
import { SessionsConfig } from './config.js';
import { SessionImages } from './images.js';
import { localPlace } from './local-place.js';
import { migrations } from './migrations.js';
import { Providers } from './registry.js';
import { SessionRepository } from './repository.js';
import { registerRoutes } from './routes.js';
import { SessionService } from './service.js';
import { TmuxServer } from './tmux/index.js';

export { TmuxServer } from './tmux/index.js';

export default definePlugin({
  name: 'sessions',
  api: '^1.0.0',
  description: 'Sessions in a private tmux server: records, terminals, streaming and survival across daemon restarts',
  provides: [providerRegistryRef, sessionControlRef, sessionDirectoryRef],
  uses: [eventLogRef],
  config: SessionsConfig,
  register(ctx) {
    const providers = new Providers();
    let tmux: TmuxServer | undefined;
    let sessions: SessionService | undefined;
    const running = <T>(value: T | undefined): T => {
      if (!value) throw new Error('the sessions plugin has not started');
      return value;
    };

    ctx.migrations(migrations);
    ctx.services.provide(providerRegistryRef, () => providers);
    ctx.services.provide(sessionDirectoryRef, () => running(sessions));
    ctx.services.provide(sessionControlRef, () => running(sessions));
    ctx.hooks.tap(eventAppended, (event) => running(sessions).dispatchToProvider(event));
    const processes: SessionProcesses = {
      serverPid: () => tmux?.pid,
      panes: async () => (tmux && sessions ? sessions.panePids() : new Map()),
      sessionName: async (id) => (await sessions?.get(id))?.name,
    };
    ctx.hooks.tap(localControlRequest, (request) => judgeControlRequest(request, processes));
    registerRoutes(ctx.api, {
      sessions: () => running(sessions),
      tmux: () => running(tmux),
      providers,
      tmuxBin: ctx.config.tmux_bin,
      log: ctx.log,
    });

    return {
      async start() {
        tmux = await TmuxServer.open({
          socketPath: path.join(ctx.paths.pluginData('sessions'), 'tmux.sock'),
          tmuxBin: ctx.config.tmux_bin,
          log: ctx.log,
        });
        sessions = new SessionService({
          repo: new SessionRepository(ctx.store),
          tmux,
          events: ctx.services.get(eventLogRef),
          providers,
          hooks: ctx.hooks,
          log: ctx.log,
          config: ctx.config,
          env: ctx.env,
          reportProblem: (key, message) => ctx.kernel.reportProblem(key, message),
          images: new SessionImages(path.join(ctx.paths.pluginData('sessions'), 'images')),
          here: localPlace(ctx.paths, ctx.env.HOME ?? os.homedir()),
        });
        const service = sessions;
        const report = (what: string) => (error: unknown) => ctx.log.error({ err: error }, what);
        tmux.on('pane-died', ({ session, exitCode, signal }) => void service.onPaneDied(session, exitCode, signal).catch(report('recording an exit failed')));
        tmux.on('session-gone', ({ session }) => void service.onTmuxSessionGone(session).catch(report('recording a lost session failed')));
        await service.reconcile();
      },
      async stop() {
        sessions?.close();
        await tmux?.close();
      },
    };
  },
});

import os from 'node:os';
import path from 'node:path';
import { definePlugin } from '@codepiper/sdk';
import { eventAppended } from '@codepiper/events-contract';
import { hostEndpoints } from '@codepiper/hosts-contract';
import { hostPlace, remoteLaunch, sessionDirectoryRef, sessionHost } from '@codepiper/sessions-contract';
import { Hosts } from './hosts.js';
import { migrations } from './migrations.js';

export default definePlugin({
  name: 'hosts',
  api: '^1.0.0',
  description: 'Other machines reached over SSH (host add|list|rm), and sessions run there (start --host): one connection per host, its key verified against known_hosts',
  uses: [sessionDirectoryRef],
  register(ctx) {
    let hosts: Hosts | undefined;
    const running = (): Hosts => {
      if (!hosts) throw new Error('the hosts plugin has not started');
      return hosts;
    };
    // The sessions plugin starts first: what it asks of hosts as it adopts sessions (a place, an ending) waits for this one's start.
    let markStarted: (started: Hosts) => void = () => {};
    const started = new Promise<Hosts>((resolve) => (markStarted = resolve));
    ctx.migrations(migrations);
    ctx.hooks.tap(hostPlace, async ({ host }) => (await started).place(host));
    ctx.hooks.tap(remoteLaunch, (launch) => running().launch(launch));
    ctx.hooks.tap(eventAppended, (event) => {
      const sessionId = event.sessionId;
      if (!sessionId) return;
      if (event.type === 'session.exited') {
        void (async () => {
          const host = sessionHost(await ctx.services.get(sessionDirectoryRef).resolve(sessionId));
          if (host !== undefined) await (await started).ended(host, sessionId);
        })().catch((error: unknown) => ctx.log.warn({ err: error, session: sessionId }, 'could not end the tmux session of a session on another host'));
      } else if (event.type === 'session.removed') {
        const host = (event.payload as { host?: unknown }).host;
        if (typeof host !== 'string') return;
        void started
          .then((ready) => ready.removed(host, sessionId))
          .catch((error: unknown) => ctx.log.warn({ err: error, session: sessionId, host }, 'could not remove the files of a removed session on its host'));
      }
    });
    ctx.api.handle(hostEndpoints.list, async ({ query }) => ({ hosts: await running().list(query.check ?? true) }));
    ctx.api.handle(hostEndpoints.add, ({ body }) => running().add(body));
    ctx.api.handle(hostEndpoints.remove, async ({ params }) => {
      await running().remove(params.name);
      return { ok: true as const };
    });
    return {
      async start() {
        hosts = new Hosts({
          store: ctx.store,
          places: { home: ctx.env.HOME ?? os.homedir(), sockets: ctx.paths.pluginData('hosts'), agentSocket: ctx.paths.agentSocket },
          // Beside the hosts' control sockets, under a name no host can have.
          copies: path.join(ctx.paths.pluginData('hosts'), '_copies'),
          sessions: () => ctx.services.get(sessionDirectoryRef),
          log: ctx.log,
        });
        markStarted(hosts);
        await hosts.reconnectInUse();
      },
      async stop() {
        await hosts?.close();
      },
    };
  },
});

import { CodePiperError, describeOrigin, type ApiRegistrar, type Logger } from '@codepiper/sdk';
import { sessionEndpoints as api, type KeyName } from '@codepiper/sessions-contract';
import type { Providers } from './registry.js';
import type { SessionService } from './service.js';
import { serveTerminal } from './terminal-socket.js';
import type { TmuxServer } from './tmux/index.js';

export interface RouteDeps {
  sessions: () => SessionService;
  tmux: () => TmuxServer;
  providers: Providers;
  tmuxBin: string;
  log: Logger;
}

export function registerRoutes(server: ApiRegistrar, deps: RouteDeps): void {
  const ok = { ok: true } as const;

  server.handle(api.providers, async () => ({ providers: await deps.sessions().providers() }));
  server.handle(api.start, ({ body, origin }) => deps.sessions().start(body, { by: describeOrigin(origin) }));
  server.handle(api.list, async ({ query }) => deps.sessions().listing({ status: query.status, finished: query.finished }));
  server.handle(api.show, ({ params }) => deps.sessions().resolve(params.id));
  server.handle(api.rename, ({ params, body }) => deps.sessions().rename(params.id, body.name));
  server.handle(api.input, async ({ params, body }) => {
    await deps.sessions().input(params.id, body.text, body.enter ?? true, 'api');
    return ok;
  });
  server.handle(api.image, ({ params, body }) => deps.sessions().keepImage(params.id, body.mediaType, body.data));
  server.handle(api.keys, async ({ params, body }) => {
    await deps.sessions().keys(params.id, body.keys as KeyName[], 'api');
    return ok;
  });
  server.handle(api.screen, ({ params }) => deps.sessions().screen(params.id));
  server.handle(api.scrollback, async ({ params, query }) => ({ text: await deps.sessions().scrollback(params.id, query.lines ?? 100) }));
  server.handle(api.resize, async ({ params, body }) => {
    await deps.sessions().resize(params.id, body.cols, body.rows);
    return ok;
  });
  server.handle(api.stop, ({ params }) => deps.sessions().stop(params.id));
  server.handle(api.kill, ({ params }) => deps.sessions().kill(params.id));
  server.handle(api.remove, ({ params }) => deps.sessions().remove(params.id));
  server.handle(api.prune, async () => deps.sessions().prune());
  server.handle(api.resume, ({ params }) => deps.sessions().resume(params.id));
  server.handle(api.transcript, async ({ params }) => ({ entries: await deps.sessions().transcript(params.id) }));
  server.handle(api.model, async ({ params, body }) => {
    await deps.sessions().switchModel(params.id, body.model, 'api');
    return ok;
  });
  server.handle(api.attachInfo, async ({ params, origin }) => {
    if (origin.transport !== 'unix') throw new CodePiperError('local_only', 'attaching a tmux client is possible on this machine only');
    const session = await deps.sessions().live(params.id);
    return { tmux: deps.tmuxBin, socket: deps.tmux().socketPath, target: `=${session.tmuxSession}` };
  });
  server.handleSocket(api.terminal, (socket, { params, query }) =>
    serveTerminal(
      socket,
      params.id,
      {
        snapshot: query.lines ? { lines: query.lines } : (query.snapshot ?? true),
        ...(query.cols !== undefined && query.rows !== undefined && { size: { cols: query.cols, rows: query.rows } }),
      },
      { sessions: deps.sessions(), tmux: deps.tmux(), log: deps.log },
    ),
  );
}

import { definePlugin } from '@codepiper/sdk';
import { eventAppended, eventLogRef } from '@codepiper/events-contract';
import { keepSession, sessionAbandoned, sessionDirectoryRef, sessionWorktree, TURN_ENDED_EVENT } from '@codepiper/sessions-contract';
import { worktreeEndpoints } from '@codepiper/worktrees-contract';
import { migrations } from './migrations.js';
import { WorktreeRecords } from './records.js';
import { Worktrees } from './worktrees.js';

/** The events after which a session's worktree is looked at for `git.changed`. */
const LOOK_AFTER = new Set([TURN_ENDED_EVENT, 'session.exited']);

export default definePlugin({
  name: 'worktrees',
  api: '^1.0.0',
  description: 'A git worktree per session (start --worktree): its changes reviewed (diff), merged into the base branch or discarded',
  uses: [eventLogRef, sessionDirectoryRef],
  register(ctx) {
    let worktrees: Worktrees | undefined;
    const running = (): Worktrees => {
      if (!worktrees) throw new Error('the worktrees plugin has not started');
      return worktrees;
    };
    ctx.migrations(migrations);
    ctx.hooks.tap(sessionWorktree, (request) => running().create(request));
    ctx.hooks.tap(sessionAbandoned, ({ sessionId }) => running().abandoned(sessionId));
    ctx.hooks.tap(keepSession, async (session) => {
      const reason = await running().keepReason(session.id);
      return reason === undefined ? undefined : { reason };
    });
    ctx.hooks.tap(eventAppended, (event) => {
      const sessionId = event.sessionId;
      if (!sessionId) return;
      const work = LOOK_AFTER.has(event.type) ? () => running().noticeChanges(sessionId) : event.type === 'session.removed' ? () => running().forgotten(sessionId) : undefined;
      void work?.().catch((error: unknown) => ctx.log.warn({ err: error, session: sessionId }, `worktree after ${event.type}: ${error instanceof Error ? error.message : String(error)}`));
    });
    ctx.api.handle(worktreeEndpoints.list, async () => ({ worktrees: await running().list() }));
    ctx.api.handle(worktreeEndpoints.status, async ({ params }) => {
      const { patch: _none, ...changes } = await running().changes(params.id);
      return changes;
    });
    ctx.api.handle(worktreeEndpoints.diff, async ({ params }) => running().changes(params.id, true));
    ctx.api.handle(worktreeEndpoints.merge, async ({ params }) => running().merge(params.id));
    ctx.api.handle(worktreeEndpoints.discard, async ({ params }) => running().discard(params.id));
    return {
      async start() {
        worktrees = new Worktrees({
          records: new WorktreeRecords(ctx.store),
          dir: ctx.paths.pluginData('worktrees'),
          sessions: () => ctx.services.get(sessionDirectoryRef),
          events: () => ctx.services.get(eventLogRef),
        });
        // Before the API serves a start, whose worktree is made before its session's record.
        const { removed, kept } = await worktrees.sweep();
        for (const w of removed) ctx.log.info({ session: w.sessionId, path: w.path }, 'removed the worktree of a session that never started');
        for (const w of kept) ctx.log.warn({ session: w.sessionId, path: w.path }, `the worktree of a session that has no record holds work, so it is kept (see: git -C ${w.path} status)`);
      },
    };
  },
});

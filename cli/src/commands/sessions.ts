import type { CAC } from 'cac';
import { sessionEndpoints, sessionPlace, SESSION_STATUSES, type SessionRecord } from '@codepiper/sessions-contract';
import { optionValue, parseStatus } from '../args.js';
import { connect } from '../client.js';
import { forSession } from '../errors.js';
import { formatAge, formatCommand, formatFields, formatTable, shortId, statusText } from '../format.js';
import { printResult } from '../output.js';

interface JsonOption {
  json?: boolean;
}

/** How many finished sessions `ls` lists without --all: a screenful, however many months of them the daemon keeps. */
const LISTED_FINISHED = 20;

const sessionRow = (s: SessionRecord, now: number): string[] => [shortId(s.id), s.name, s.provider, statusText(s), formatAge(s.createdAt, now), sessionPlace(s)];

const sessionFields = (s: SessionRecord, more: readonly (readonly [string, string])[] = []): string =>
  formatFields([
    ['id', s.id],
    ['name', s.name],
    ['provider', s.provider],
    ['status', statusText(s)],
    ['cwd', sessionPlace(s)],
    ['command', formatCommand(s.command)],
    ['created', `${s.createdAt} (${formatAge(s.createdAt)} ago)`],
    ['updated', s.updatedAt],
    ['ended', s.endedAt ?? '-'],
    ['tmux session', s.tmuxSession],
    ...Object.entries(s.metadata).map(([key, value]) => [`metadata.${key}`, typeof value === 'string' ? value : String(JSON.stringify(value))] as const),
    ...more,
  ]);

export function registerSessionCommands(cli: CAC): void {
  cli
    .command('ls', `List sessions, newest first: every running one and the ${LISTED_FINISHED} newest finished (also: sessions)`)
    .alias('sessions')
    .option('--status <status>', `Only sessions in this status: ${SESSION_STATUSES.join(', ')}`)
    .option('--all', 'Every finished session too, however old')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper ls')
    .example('  $ codepiper ls --status waiting --json')
    .example('  $ codepiper ls --status exited --all')
    .action(async (options: JsonOption & { status?: unknown; all?: boolean }) => {
      const status = parseStatus(optionValue(options.status, '--status'));
      const result = await connect().call(sessionEndpoints.list, { query: { status, ...(options.all ? {} : { finished: LISTED_FINISHED }) } });
      const now = Date.now();
      printResult(result, options.json, ({ sessions, finishedLeftOut }) => {
        const table = sessions.length === 0 ? 'no sessions' : formatTable(['ID', 'NAME', 'PROVIDER', 'STATUS', 'AGE', 'CWD'], sessions.map((s) => sessionRow(s, now)));
        return finishedLeftOut === 0 ? table : `${table}\n(${finishedLeftOut} older finished ${finishedLeftOut === 1 ? 'session' : 'sessions'} not shown: codepiper ls --all)`;
      });
    });

  cli
    .command('show <id>', 'Show everything about a session')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper show ab12')
    .action(async (id: string, options: JsonOption) => {
      const client = connect();
      const session = await forSession(id, client.call(sessionEndpoints.show, { params: { id } }));
      // Loaded here: `ls` and the rest have no use for worktrees.
      const { worktreeChanges, worktreeFields } = await import('./worktrees.js');
      const worktree = options.json ? undefined : await worktreeChanges(client, session.id);
      printResult(session, options.json, (s) => sessionFields(s, worktree ? worktreeFields(worktree) : []));
    });

  const endings = [
    { name: 'stop', endpoint: sessionEndpoints.stop, done: 'stopped', description: 'Ask a session’s program to end; it is killed if it does not' },
    { name: 'kill', endpoint: sessionEndpoints.kill, done: 'killed', description: 'End a session at once' },
    { name: 'resume', endpoint: sessionEndpoints.resume, done: 'resumed', description: 'Start a finished agent session again, continuing its conversation' },
  ];
  for (const { name, endpoint, done, description } of endings) {
    cli
      .command(`${name} <id>`, description)
      .option('--json', 'Print the session as JSON')
      .example(`  $ codepiper ${name} ab12`)
      .action(async (id: string, options: JsonOption) => {
        const session = await forSession(id, connect().call(endpoint, { params: { id } }));
        printResult(session, options.json, (s) => `${done} ${shortId(s.id)} ${s.name}: ${statusText(s)}`);
      });
  }

  cli
    .command('rm <id> [...more]', 'Forget finished sessions: their records go and their names are free again (their events stay)')
    .option('--json', 'Print the removed sessions as JSON')
    .example('  $ codepiper rm ab12 cd34')
    .action(async (id: string, more: string[], options: JsonOption) => {
      const client = connect();
      const removed: SessionRecord[] = [];
      for (const ref of [id, ...more]) removed.push(await forSession(ref, client.call(sessionEndpoints.remove, { params: { id: ref } })));
      printResult({ removed }, options.json, (r) => r.removed.map((s) => `removed ${shortId(s.id)} ${s.name}`).join('\n'));
    });

  cli
    .command('prune', 'Forget every finished session')
    .option('--json', 'Print the removed sessions as JSON')
    .example('  $ codepiper prune')
    .action(async (options: JsonOption) => {
      const result = await connect().call(sessionEndpoints.prune);
      printResult(result, options.json, (r) =>
        [
          r.removed.length === 0 && r.kept.length === 0 ? 'no finished sessions' : `removed ${r.removed.length} finished session${r.removed.length === 1 ? '' : 's'}`,
          ...r.kept.map(({ session, reason }) => `kept ${shortId(session.id)} ${session.name}: ${reason}`),
        ].join('\n'),
      );
    });

  cli
    .command('rename <id> <name>', 'Rename a session')
    .option('--json', 'Print the session as JSON')
    .example('  $ codepiper rename ab12 "fix login bug"')
    .action(async (id: string, name: string, options: JsonOption) => {
      const session = await forSession(id, connect().call(sessionEndpoints.rename, { params: { id }, body: { name } }));
      printResult(session, options.json, (s) => `renamed ${shortId(s.id)} to ${s.name}`);
    });
}

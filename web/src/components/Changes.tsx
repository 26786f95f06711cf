import { createResource, createSignal, For, Show } from 'solid-js';
import { isWorktreeGone, worktreeEndpoints, type ChangedFile } from '@codepiper/worktrees-contract';
import { ApiError, call, describe } from '../api.js';
import { parsePatch, type FilePatch } from '../diff.js';
import { highlightLine, languageOf } from '../highlight.js';
import { debounce, onEvents } from '../live.js';
import { ActionButton } from './Form.jsx';

/** What can change what a worktree holds: a turn's end, an exit, a merge or discard. */
const CHANGING_EVENTS = ['git.', 'session.turn_ended', 'session.exited', 'session.status'];

const PREFIX = { add: '+', remove: '-', context: ' ' } as const;

const counts = (file: ChangedFile) => (file.added === null ? 'binary' : `+${file.added} −${file.removed ?? 0}`);

const loadDiff = (sessionId: string) => call(worktreeEndpoints.diff, { params: { id: sessionId } });

function FileDiff(props: { patch: FilePatch | undefined; file: ChangedFile }) {
  const language = languageOf(props.file.path);
  return (
    <Show when={!props.patch?.binary} fallback={<p class="muted small">{props.patch?.binary}</p>}>
      <For each={props.patch?.hunks}>
        {(hunk) => (
          <div class="hunk">
            <p class="hunk-header">{hunk.header}</p>
            <pre class="diff">
              <For each={hunk.lines}>
                {(line) => (
                  <span class={`diff-line ${line.kind}`} data-kind={line.kind}>
                    <span class="diff-sign" aria-hidden="true">{PREFIX[line.kind]}</span>
                    {language ? <span innerHTML={highlightLine(line.text, language)} /> : <span>{line.text}</span>}
                    {'\n'}
                  </span>
                )}
              </For>
            </pre>
          </div>
        )}
      </For>
    </Show>
  );
}

/**
 * A session's worktree for review on any screen: changed files with their
 * line counts, each file's hunks (coloured, wrapped, never scrolled
 * sideways), the branch's commits, and Merge / Discard after a confirmation.
 */
export default function Changes(props: { sessionId: string; sessionName: string; finished: boolean }) {
  const [diff, { refetch }] = createResource(() => props.sessionId, loadDiff);
  const [problem, setProblem] = createSignal('');
  const reload = debounce(() => void refetch(), 300);
  // A discarded or removed worktree changes no more: its events ask for nothing.
  const gone = () => diff.state === 'ready' && isWorktreeGone(diff().worktree);
  onEvents(CHANGING_EVENTS, (event) => {
    if (event.sessionId === props.sessionId && !gone()) reload();
  });
  const patches = () => new Map(parsePatch(diff()?.patch ?? '').map((patch) => [patch.path, patch]));
  const act = (action: () => Promise<unknown>) => async () => {
    setProblem('');
    try {
      await action();
    } catch (error) {
      const conflicts = error instanceof ApiError ? (error.details?.conflicts as string[] | undefined) : undefined;
      setProblem(conflicts ? `Not merged: ${conflicts.join(', ')} changed on both sides. Nothing was changed.` : describe(error));
    }
    await refetch();
  };
  return (
    <Show when={diff()}>
      {(d) => (
        <section class="card changes" aria-labelledby="changes-title" data-testid="changes" data-session={props.sessionId}>
          <h2 id="changes-title">Changes</h2>
          <p class="muted small">
            <code>{d().worktree.branch}</code> from <code>{d().worktree.base}</code>
            {' · '}
            {d().worktree.state === 'active' ? `${d().files.length} file${d().files.length === 1 ? '' : 's'}, +${d().added} −${d().removed}` : d().worktree.state}
          </p>
          <Show when={d().files.length > 0} fallback={<p class="muted">No changes since the branch point.</p>}>
            <ul class="changed-files">
              <For each={d().files}>
                {(file) => (
                  <li data-file={file.path}>
                    <details>
                      <summary>
                        <span class="path">{file.path}</span>
                        <span class="counts" aria-label={`${file.change}, ${counts(file)}`}>
                          {file.change === 'modified' ? '' : `${file.change} `}
                          {counts(file)}
                        </span>
                      </summary>
                      <FileDiff patch={patches().get(file.path)} file={file} />
                    </details>
                  </li>
                )}
              </For>
            </ul>
          </Show>
          <Show when={d().commits.length > 0}>
            <h3>Commits</h3>
            <ol class="commits">
              <For each={d().commits}>
                {(commit) => (
                  <li>
                    <code>{commit.commit.slice(0, 8)}</code> {commit.subject} <span class="muted small">{commit.author}, {commit.date.slice(0, 16).replace('T', ' ')}</span>
                  </li>
                )}
              </For>
            </ol>
          </Show>
          <Show when={!isWorktreeGone(d().worktree)}>
            <div class="actions">
              <ActionButton
                confirm={`Merge ${d().worktree.branch} into ${d().worktree.base}? What ${props.sessionName} left uncommitted is committed first.`}
                action={act(() => call(worktreeEndpoints.merge, { params: { id: props.sessionId } }))}
              >
                Merge into {d().worktree.base}
              </ActionButton>
              <Show when={props.finished}>
                <ActionButton
                  class="danger"
                  confirm={`Discard ${d().worktree.branch}? Its worktree and every change in it are deleted.`}
                  action={act(() => call(worktreeEndpoints.discard, { params: { id: props.sessionId } }))}
                >
                  Discard
                </ActionButton>
              </Show>
            </div>
          </Show>
          <p class="error" role="alert">
            {problem()}
          </p>
        </section>
      )}
    </Show>
  );
}

import { A } from '@solidjs/router';
import { createEffect, createResource, For, Show } from 'solid-js';
import { approvalEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { call } from '../api.js';
import { describeInput } from '../components/Approval.jsx';
import { age } from '../components/Status.jsx';
import { describeNotice, INBOX_EVENTS, INBOX_SIZE, markSeen, seen, useInbox } from '../inbox.js';
import { debounce, onEvents } from '../live.js';

/**
 * What happened while you looked away: questions, finished turns and exits of
 * every session, newest first; those since the last visit on this device are
 * marked new. A question still waiting says so and links to its answer.
 */
export function InboxPage() {
  const { notices } = useInbox();
  // Read again with the notices (the layout keeps those current): a notice can come from a session started after the page opened.
  // As many finished sessions as there are notices: enough but for a session started before the newest of them (named by its id).
  const [names, { refetch: refetchNames }] = createResource(async () => new Map((await call(sessionEndpoints.list, { query: { finished: INBOX_SIZE } })).sessions.map((s) => [s.id, s.name])));
  const [waiting, { refetch: refetchWaiting }] = createResource(async () => new Set((await call(approvalEndpoints.list, { query: {} })).approvals.map((a) => a.id)));
  const lastSeen = seen();
  onEvents([...INBOX_EVENTS, 'approval.answered'], debounce(() => (void refetchNames(), void refetchWaiting())));
  // Shown is read: the count in the navigation goes; the marks here stay until the page is opened again.
  createEffect(() => markSeen(notices() ?? []));
  const nameOf = (id: string | null) => (id ? (names()?.get(id) ?? id.slice(0, 8)) : 'a session');
  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      <ol class="list" aria-label="Notices, newest first">
        <For each={notices()} fallback={<li class="muted">{notices.loading ? 'Loading…' : 'Nothing yet: questions, finished turns and exits show here.'}</li>}>
          {(event) => {
            const payload = (event.payload ?? {}) as { id?: string; input?: unknown };
            const open = () => event.type === 'approval.pending' && payload.id !== undefined && (waiting()?.has(payload.id) ?? false);
            return (
              <li class="row" data-notice={event.type} classList={{ unread: event.id > lastSeen }}>
                <div class="grow">
                  <Show when={event.id > lastSeen}>
                    <span class="badge">new</span>{' '}
                  </Show>
                  <A href={event.sessionId ? `/sessions/${event.sessionId}` : '/'}>{describeNotice(event, nameOf(event.sessionId))}</A>
                  <Show when={event.type === 'approval.pending'}>
                    <div>
                      <code class="wrap">{describeInput(payload.input)}</code>
                    </div>
                  </Show>
                  <div class="muted small">{age(event.ts)} ago</div>
                </div>
                <Show when={open()}>
                  <A class="button" href="/approvals">
                    Answer
                  </A>
                </Show>
              </li>
            );
          }}
        </For>
      </ol>
    </section>
  );
}

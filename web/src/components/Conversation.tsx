import { createEffect, createResource, Index, Match, on, Show, Switch, type JSX } from 'solid-js';
import { ApiError } from '@codepiper/sdk/browser';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { call, describe } from '../api.js';
import { toTurns, type Turn } from '../conversation.js';
import { debounce, onEvents } from '../live.js';
import { describeInput } from './Approval.jsx';

/** How long after an event the transcript is read again: the agent writes its records a moment after its hooks fire. */
const SETTLE_MS = 1500;

/**
 * A session's conversation from the agent's own records: messages, tool
 * calls with their input and result. It is read again on the session's
 * events; `children` (the pending questions) come after the last message,
 * where the conversation waits for them.
 */
export function Conversation(props: { sessionId: string; children?: JSX.Element }) {
  let opened: string | undefined;
  const [entries, { refetch }] = createResource(
    () => props.sessionId,
    async (id) => {
      try {
        return (await call(sessionEndpoints.transcript, { params: { id } })).entries;
      } catch (error) {
        // The agent has not written its records yet: an empty conversation, not a failure.
        if (error instanceof ApiError && error.code === 'no_transcript') return [];
        throw error;
      } finally {
        // The events of the moment before the view opened came before it listened, and their records may
        // have come after this first read: nothing else would read them, so it is read once more.
        if (opened !== id) {
          opened = id;
          settled();
        }
      }
    },
  );
  const soon = debounce(() => void refetch(), 200);
  const settled = debounce(() => void refetch(), SETTLE_MS);
  onEvents([''], (event) => {
    if (event.sessionId !== props.sessionId) return;
    soon();
    settled();
  });
  const turns = () => toTurns(entries.latest ?? []);
  let list: HTMLOListElement | undefined;
  // New messages scroll into view, unless the reader has scrolled up to read older ones.
  createEffect(
    on(
      () => turns().length,
      () => {
        if (!list) return;
        const nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
        if (nearEnd) list.scrollTop = list.scrollHeight;
      },
    ),
  );

  return (
    <section class="conversation" aria-label="Conversation" data-testid="conversation">
      <Show when={entries.error}>
        <p class="error" role="alert">
          {describe(entries.error)}
        </p>
      </Show>
      <ol class="messages" ref={(element) => (list = element)} tabindex="0" aria-label="Messages">
        <Index each={turns()} fallback={<li class="muted">{entries.loading ? 'Loading…' : 'No messages yet.'}</li>}>
          {(turn) => <Message turn={turn()} />}
        </Index>
      </ol>
      {props.children}
    </section>
  );
}

type ToolTurn = Extract<Turn, { kind: 'tool' }>;
type MessageTurn = Exclude<Turn, ToolTurn>;
const asTool = (turn: Turn): ToolTurn | undefined => (turn.kind === 'tool' ? turn : undefined);
const asMessage = (turn: Turn): MessageTurn | undefined => (turn.kind === 'tool' ? undefined : turn);

function Message(props: { turn: Turn }) {
  return (
    <Switch>
      <Match when={asTool(props.turn)}>
        {(tool) => (
          <li class="message tool" data-kind="tool">
            <details>
              <summary>
                <strong>{tool().name}</strong> <code class="wrap">{describeInput(tool().input)}</code>
                <Show when={tool().result === undefined}>
                  <span class="muted small"> · no result yet</span>
                </Show>
              </summary>
              <pre class="wrap" aria-label="Input">{JSON.stringify(tool().input, null, 2)}</pre>
              <Show when={tool().result !== undefined}>
                <pre class="wrap" aria-label="Result">{tool().result}</pre>
              </Show>
            </details>
          </li>
        )}
      </Match>
      <Match when={asMessage(props.turn)}>
        {(message) => (
          <li class={`message ${message().kind}`} data-kind={message().kind}>
            <span class="visually-hidden">{message().kind === 'user' ? 'You: ' : 'Agent: '}</span>
            <p class="wrap">{message().text}</p>
          </li>
        )}
      </Match>
    </Switch>
  );
}

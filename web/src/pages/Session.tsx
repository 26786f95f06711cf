import { useNavigate, useParams } from '@solidjs/router';
import { createResource, createSignal, For, lazy, Show } from 'solid-js';
import { approvalEndpoints, policyEndpoints } from '@codepiper/policies-contract';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { IMAGE_TYPES, isFinished, sessionEndpoints, sessionPlace, type KeyName } from '@codepiper/sessions-contract';
import { worktreeEndpoints } from '@codepiper/worktrees-contract';
import { call, describe } from '../api.js';
import { Approval } from '../components/Approval.jsx';
import { Conversation } from '../components/Conversation.jsx';
import { ActionButton, ActionForm } from '../components/Form.jsx';
import { createTypedTextPolicies, InputPolicyNotice } from '../components/InputPolicyNotice.jsx';
import { MuteButton } from '../components/MuteButton.jsx';
import { Status } from '../components/Status.jsx';
import { Terminal } from '../components/Terminal.jsx';
import { UsageTotals } from '../components/UsageTotals.jsx';
import { attachImage, imageFiles, insertAtCursor } from '../images.js';
import { trackKeyboardInset } from '../keyboard.js';
import { debounce, onEvents } from '../live.js';
import { describeEvent } from '../timeline.js';

/** The phone's missing keys. */
const KEY_BAR: { key: KeyName; label: string; name: string }[] = [
  { key: 'escape', label: 'Esc', name: 'Esc (Escape)' },
  { key: 'tab', label: 'Tab', name: 'Tab' },
  { key: 'shift+tab', label: '⇧Tab', name: 'Shift-Tab (Claude Code: next permission mode)' },
  { key: 'ctrl+c', label: '^C', name: 'Ctrl-C (interrupt)' },
  { key: 'ctrl+d', label: '^D', name: 'Ctrl-D (end of input)' },
  { key: 'up', label: '↑', name: 'Up arrow' },
  { key: 'down', label: '↓', name: 'Down arrow' },
  { key: 'left', label: '←', name: 'Left arrow' },
  { key: 'right', label: '→', name: 'Right arrow' },
  { key: 'enter', label: '⏎', name: 'Enter' },
];
const TIMELINE_LENGTH = 200;
/** With its syntax colouring, loaded for sessions in a worktree only. */
const Changes = lazy(() => import('../components/Changes.jsx'));

/** The two ways to look at an agent's session; the last one chosen is kept on the device. */
type View = 'terminal' | 'conversation';
const VIEW_KEY = 'codepiper.session.view';
const VIEWS: { id: View; label: string }[] = [
  { id: 'terminal', label: 'Terminal' },
  { id: 'conversation', label: 'Conversation' },
];

/** On a desktop (a fine pointer) Enter sends the prompt and Shift+Enter starts a new line; a phone's Enter is a new line, and Send sends. */
const enterSends = () => window.matchMedia('(pointer: fine)').matches;
const sendOnEnter = (event: KeyboardEvent & { currentTarget: HTMLTextAreaElement }) => {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || !enterSends()) return;
  event.preventDefault();
  event.currentTarget.form?.requestSubmit();
};

export function SessionPage() {
  const params = useParams<{ id: string }>();
  const [session, { refetch }] = createResource(() => params.id, (id) => call(sessionEndpoints.show, { params: { id } }));
  const [events, { mutate: setEvents }] = createResource(
    () => session()?.id,
    async (id) => (await call(eventEndpoints.list, { query: { session: id, limit: TIMELINE_LENGTH, newest: true } })).events,
  );
  const [approvals, { refetch: refetchApprovals }] = createResource(
    () => session()?.id,
    async (id) => (await call(approvalEndpoints.list, { query: {} })).approvals.filter((a) => a.sessionId === id),
  );
  // Asked of the list, not by a 404 that a browser's console would show as an error.
  const [inWorktree] = createResource(
    () => session()?.id,
    async (id) => (await call(worktreeEndpoints.list)).worktrees.some((worktree) => worktree.sessionId === id),
  );
  const [bypassed, { refetch: refetchBypass }] = createResource(
    () => session()?.id,
    async (id) => (await call(policyEndpoints.bypassed)).bypasses.some((bypass) => bypass.sessionId === id),
  );
  const [providers] = createResource(async () => (await call(sessionEndpoints.providers)).providers);
  const provider = () => providers()?.find((p) => p.id === session()?.provider);
  const navigate = useNavigate();
  const [notice, setNotice] = createSignal('');
  onEvents([''], (event: CodePiperEvent) => {
    if (event.sessionId !== (session()?.id ?? params.id)) return;
    setEvents((list) => [event, ...(list ?? [])].slice(0, TIMELINE_LENGTH));
    if (event.type.startsWith('session.')) refreshSession();
    if (event.type.startsWith('approval.')) void refetchApprovals();
    if (event.type.startsWith('policy.bypass')) void refetchBypass();
  });
  const refreshSession = debounce(() => void refetch());
  trackKeyboardInset();
  const id = () => session()?.id ?? params.id;
  const live = () => !isFinished(session()?.status ?? 'exited');
  const typedTextPolicies = createTypedTextPolicies(() => session()?.id);
  const inputNotice = () => (live() && typedTextPolicies() ? 'input-policy-notice' : undefined);
  const [view, setView] = createSignal<View>(localStorage.getItem(VIEW_KEY) === 'conversation' ? 'conversation' : 'terminal');
  const chooseView = (next: View) => {
    setView(next);
    localStorage.setItem(VIEW_KEY, next);
  };
  const conversation = () => provider()?.keepsTranscript === true && view() === 'conversation';
  let promptField: HTMLTextAreaElement | undefined;
  /** Images pasted, dropped or picked: kept by the daemon, their references put into the prompt where the cursor is. */
  const attach = async (files: File[]) => {
    try {
      for (const file of files) if (promptField) insertAtCursor(promptField, await attachImage(id(), file));
    } catch (error) {
      setNotice(describe(error));
    }
  };
  const attachFrom = (event: Event, transfer: DataTransfer | null) => {
    const files = imageFiles(transfer);
    if (files.length === 0 || !provider()?.readsImages) return;
    event.preventDefault();
    void attach(files);
  };
  const pending = () => (
    <Show when={(approvals() ?? []).length > 0}>
      <ul class="list approvals" aria-label="Pending approvals for this session">
        <For each={approvals()}>{(approval) => <Approval approval={approval} />}</For>
      </ul>
    </Show>
  );

  return (
    <Show when={session()} fallback={<p class="muted">{session.error ? String(session.error) : 'Loading…'}</p>}>
      {(s) => (
        <section class="session" aria-labelledby="session-title">
          <div class="heading">
            <h1 id="session-title">{s().name}</h1>
            <Status session={s()} />
            <span class="muted small">
              {s().provider} · {sessionPlace(s())}
            </span>
            <MuteButton sessionId={s().id} />
            <Show when={live()}>
              <ActionButton class="secondary" action={() => call(sessionEndpoints.stop, { params: { id: id() } })}>Stop</ActionButton>
              <ActionButton class="danger" confirm={`Kill ${s().name}? Its program is ended at once, with no chance to save its work.`} action={() => call(sessionEndpoints.kill, { params: { id: id() } })}>Kill</ActionButton>
            </Show>
            <Show when={!live() && provider()?.resumable}>
              <ActionButton
                action={async () => {
                  const resumed = await call(sessionEndpoints.resume, { params: { id: id() } });
                  if (resumed.id === id()) await refetch();
                  else navigate(`/sessions/${resumed.id}`);
                }}
              >
                Resume
              </ActionButton>
            </Show>
          </div>
          <Show when={bypassed()}>
            <div class="notice bypass" role="note" data-testid="bypass-notice">
              <p>Runs without policies: every call is allowed, and recorded in the audit trail.</p>
              <ActionButton class="secondary" label="Put under policies" onError={setNotice} action={() => call(policyEndpoints.endBypass, { params: { id: id() } })}>
                Put under policies
              </ActionButton>
            </div>
          </Show>
          <Show when={live() && provider()?.switchesModel}>
            <ActionForm
              class="prompt"
              label="Switch model"
              submit="Switch model"
              action={async (values, form) => {
                await call(sessionEndpoints.model, { params: { id: id() }, body: { model: values.model ?? '' } });
                setNotice(`model switched to ${values.model ?? ''}`);
                form.reset();
              }}
            >
              <label class="grow">
                <span class="visually-hidden">Model</span>
                <input name="model" required placeholder="Model (opus, sonnet, a full model name)" autocomplete="off" />
              </label>
            </ActionForm>
          </Show>
          <Show when={provider()?.keepsTranscript}>
            <div class="views" role="group" aria-label="View">
              <For each={VIEWS}>
                {(v) => (
                  <button type="button" class="secondary" aria-pressed={view() === v.id} onClick={() => chooseView(v.id)}>
                    {v.label}
                  </button>
                )}
              </For>
            </div>
          </Show>
          <Show
            when={conversation()}
            fallback={
              <>
                {pending()}
                <Show when={inputNotice()}>{(noticeId) => <InputPolicyNotice id={noticeId()} />}</Show>
                <Show when={s().id} keyed>
                  {(sessionId) => <Terminal sessionId={sessionId} onNotice={setNotice} describedBy={inputNotice()} />}
                </Show>
              </>
            }
          >
            <Conversation sessionId={s().id}>{pending()}</Conversation>
          </Show>
          <p class="error" role="alert">
            {notice()}
          </p>
          <Show when={live() && !conversation()}>
            <div class="keybar" role="toolbar" aria-label="Keys">
              <For each={KEY_BAR}>
                {(k) => (
                  <ActionButton class="key" label={k.name} keepsFocus onError={setNotice} action={() => call(sessionEndpoints.keys, { params: { id: id() }, body: { keys: [k.key] } })}>
                    {k.label}
                  </ActionButton>
                )}
              </For>
            </div>
          </Show>
          <Show when={live()}>
            <ActionForm
              class="prompt"
              label="Send a prompt"
              submit="Send"
              action={async (values, form) => {
                await call(sessionEndpoints.input, { params: { id: id() }, body: { text: values.text ?? '', enter: true } });
                form.reset();
              }}
            >
              <label class="grow">
                <span class="visually-hidden">Prompt</span>
                <textarea
                  ref={(element) => (promptField = element)}
                  name="text"
                  rows="2"
                  placeholder={enterSends() ? 'A prompt or a command for the session (Enter sends, Shift+Enter: new line)' : 'A prompt or a command for the session'}
                  required
                  onKeyDown={sendOnEnter}
                  onPaste={(event) => attachFrom(event, event.clipboardData)}
                  onDrop={(event) => attachFrom(event, event.dataTransfer)}
                />
              </label>
              <Show when={provider()?.readsImages}>
                <label class="button secondary attach">
                  Add image
                  <input type="file" accept={IMAGE_TYPES.join(',')} class="visually-hidden" onChange={(event) => void attach([...(event.currentTarget.files ?? [])]).finally(() => (event.currentTarget.value = ''))} />
                </label>
              </Show>
            </ActionForm>
          </Show>
          <Show when={inWorktree() && s().id} keyed>
            {(sessionId) => <Changes sessionId={sessionId} sessionName={s().name} finished={!live()} />}
          </Show>
          <UsageTotals sessionId={s().id} />
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            <ol class="timeline" tabindex="0" aria-labelledby="timeline-title">
              <For each={events()}>
                {(event) => (
                  <li>
                    <time datetime={event.ts}>{event.ts.slice(11, 19)}</time> {describeEvent(event)} <span class="muted small">{event.type}</span>
                  </li>
                )}
              </For>
            </ol>
          </section>
        </section>
      )}
    </Show>
  );
}

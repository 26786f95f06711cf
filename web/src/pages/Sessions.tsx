import { A, useNavigate } from '@solidjs/router';
import { createMemo, createResource, createSignal, For, Show } from 'solid-js';
import { isFinished, SESSION_STATUSES, sessionEndpoints, type SessionRecord } from '@codepiper/sdk/contracts';
import { call } from '../api.js';
import { ActionButton, ActionForm } from '../components/Form.jsx';
import { age, Status } from '../components/Status.jsx';
import { debounce, onEvents } from '../live.js';

/** Every session with its live status; start, stop and kill; filter by status and search. */
export function SessionsPage() {
  const [sessions, { refetch }] = createResource(async () => (await call(sessionEndpoints.list, { query: {} })).sessions);
  const [providers] = createResource(async () => (await call(sessionEndpoints.providers)).providers);
  onEvents(['session.'], debounce(() => void refetch()));
  const [status, setStatus] = createSignal('');
  const [search, setSearch] = createSignal('');
  const [starting, setStarting] = createSignal(false);
  const navigate = useNavigate();

  const shown = createMemo(() => {
    const words = search().toLowerCase().split(/\s+/).filter(Boolean);
    return (sessions() ?? []).filter(
      (s) => (!status() || s.status === status()) && words.every((w) => `${s.name} ${s.provider} ${s.cwd} ${s.id}`.toLowerCase().includes(w)),
    );
  });

  const start = async (values: Record<string, string>) => {
    const session = await call(sessionEndpoints.start, {
      body: {
        provider: values.provider ?? '',
        cwd: values.cwd ?? '',
        ...(values.name ? { name: values.name } : {}),
        ...(values.model ? { options: { model: values.model } } : {}),
        ...(values.prompt ? { prompt: values.prompt } : {}),
      },
    });
    navigate(`/sessions/${session.id}`);
  };

  return (
    <section aria-labelledby="sessions-title">
      <div class="heading">
        <h1 id="sessions-title">Sessions</h1>
        <button type="button" onClick={() => setStarting(!starting())} aria-expanded={starting()}>
          {starting() ? 'Close' : 'New session'}
        </button>
      </div>
      <Show when={starting()}>
        <ActionForm label="Start a session" submit="Start" action={start}>
          <label>
            Provider
            <select name="provider" required>
              <For each={providers()}>{(p) => <option value={p.id} title={p.description}>{p.id}</option>}</For>
            </select>
          </label>
          <label>
            Directory
            <input name="cwd" required placeholder="/home/me/project" autocomplete="off" />
          </label>
          <label>
            Name
            <input name="name" placeholder="optional" autocomplete="off" />
          </label>
          <label>
            Model
            <input name="model" placeholder="optional, e.g. sonnet" autocomplete="off" />
          </label>
          <label class="wide">
            First prompt
            <textarea name="prompt" rows="2" placeholder="optional" />
          </label>
        </ActionForm>
      </Show>
      <div class="filters" role="search">
        <label>
          Status
          <select value={status()} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">all</option>
            <For each={SESSION_STATUSES}>{(s) => <option value={s}>{s}</option>}</For>
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search()} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="name, provider, directory" />
        </label>
      </div>
      <Show when={shown().length > 0} fallback={<p class="muted">{sessions.loading ? 'Loading…' : 'No sessions.'}</p>}>
        <ul class="list" aria-label="Sessions">
          <For each={shown()}>{(session) => <SessionRow session={session} />}</For>
        </ul>
      </Show>
    </section>
  );
}

function SessionRow(props: { session: SessionRecord }) {
  const live = () => !isFinished(props.session.status);
  return (
    <li class="row" data-session={props.session.id}>
      <div class="grow">
        <A href={`/sessions/${props.session.id}`} class="title">
          {props.session.name}
        </A>
        <div class="muted small">
          {props.session.provider} · {props.session.cwd} · {age(props.session.createdAt)} ago
        </div>
      </div>
      <Status session={props.session} />
      <Show when={live()}>
        <ActionButton class="secondary" label={`Stop ${props.session.name}`} action={() => call(sessionEndpoints.stop, { params: { id: props.session.id } })}>
          Stop
        </ActionButton>
        <ActionButton class="danger" label={`Kill ${props.session.name}`} action={() => call(sessionEndpoints.kill, { params: { id: props.session.id } })}>
          Kill
        </ActionButton>
      </Show>
    </li>
  );
}

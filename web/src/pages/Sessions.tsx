import { A, useNavigate } from '@solidjs/router';
import { createMemo, createResource, createSignal, For, Show } from 'solid-js';
import { daemonEndpoints, type SchemaField } from '@codepiper/sdk/browser';
import { hostEndpoints } from '@codepiper/hosts-contract';
import { isFinished, SESSION_STATUSES, sessionEndpoints, sessionPlace, type SessionRecord } from '@codepiper/sessions-contract';
import { policyEndpoints } from '@codepiper/policies-contract';
import { call } from '../api.js';
import { ActionButton, ActionForm } from '../components/Form.jsx';
import { age, Status } from '../components/Status.jsx';
import { debounce, onEvents } from '../live.js';
import { policySetNames } from '../policy-sets.js';

/** The status filter's value for every session still running, whatever its status. */
const LIVE = 'live';
const STATUS_FILTER_KEY = 'codepiper.sessions.status';

/** How many finished sessions the list holds until asked for all of them: a phone need not load months of them. */
const LISTED_FINISHED = 50;

/** Every session with its live status; start, stop and kill, remove finished ones; filter by status and search. */
export function SessionsPage() {
  const [allFinished, setAllFinished] = createSignal(false);
  const [listing, { refetch }] = createResource(
    () => ({ all: allFinished() }),
    ({ all }) => call(sessionEndpoints.list, { query: all ? {} : { finished: LISTED_FINISHED } }),
  );
  const sessions = () => listing()?.sessions;
  const [providers] = createResource(async () => (await call(sessionEndpoints.providers)).providers);
  onEvents(['session.'], debounce(() => void refetch()));
  // Remembered on this device: a phone that hides finished sessions keeps hiding them.
  const [status, setStatus] = createSignal(localStorage.getItem(STATUS_FILTER_KEY) ?? '');
  const chooseStatus = (value: string) => {
    localStorage.setItem(STATUS_FILTER_KEY, value);
    setStatus(value);
  };
  const matches = (s: SessionRecord) => !status() || (status() === LIVE ? !isFinished(s.status) : s.status === status());
  const [search, setSearch] = createSignal('');
  const [starting, setStarting] = createSignal(false);
  const navigate = useNavigate();

  const shown = createMemo(() => {
    const words = search().toLowerCase().split(/\s+/).filter(Boolean);
    return (sessions() ?? []).filter(
      (s) => matches(s) && words.every((w) => `${s.name} ${s.provider} ${sessionPlace(s)} ${s.id}`.toLowerCase().includes(w)),
    );
  });

  const [provider, setProvider] = createSignal('');
  const chosen = createMemo(() => (providers() ?? []).find((p) => p.id === (provider() || providers()?.[0]?.id)));

  // Asked when the form opens, not with every visit to the list; the hosts as added, not reached.
  const [hosts] = createResource(
    () => starting() || undefined,
    async () => {
      // A daemon without the hosts plugin has no hosts to offer (and would answer 404).
      const { plugins } = await call(daemonEndpoints.status);
      if (!plugins.some((plugin) => plugin.name === 'hosts')) return [];
      return (await call(hostEndpoints.list, { query: { check: false } })).hosts.map((host) => host.name);
    },
  );
  const [policySets] = createResource(
    () => starting() || undefined,
    async () => policySetNames((await call(policyEndpoints.list, { query: {} })).policies),
  );

  const start = async (values: Record<string, string>) => {
    const options = providerOptionValues(chosen()?.options ?? [], values);
    if (values.withoutPolicies && !confirm('Start this session without policies? Every tool call it makes will be allowed (and recorded in the audit trail).')) return;
    const session = await call(sessionEndpoints.start, {
      body: {
        provider: values.provider ?? '',
        cwd: values.cwd ?? '',
        ...(values.name ? { name: values.name } : {}),
        ...(options ? { options } : {}),
        ...(values.prompt ? { prompt: values.prompt } : {}),
        ...(values.worktree ? { worktree: true } : {}),
        ...(values.host ? { host: values.host } : {}),
        ...(values.policySet ? { policySets: [values.policySet] } : {}),
        ...(values.withoutPolicies ? { withoutPolicies: true } : {}),
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
            <select name="provider" required onChange={(e) => setProvider(e.currentTarget.value)}>
              <For each={providers()}>{(p) => <option value={p.id} title={p.description}>{p.id}</option>}</For>
            </select>
          </label>
          <Show when={(hosts() ?? []).length > 0}>
            <label>
              Host
              <select name="host">
                <option value="">this machine</option>
                <For each={hosts()}>{(host) => <option value={host}>{host}</option>}</For>
              </select>
            </label>
          </Show>
          <label>
            Directory
            <input name="cwd" required placeholder="/home/me/project" autocomplete="off" />
          </label>
          <label>
            Name
            <input name="name" placeholder="optional" autocomplete="off" />
          </label>
          <For each={chosen()?.options}>{(option) => <ProviderOptionField option={option} />}</For>
          <label class="check">
            <input type="checkbox" name="worktree" value="yes" />
            In a git worktree of its own (a new branch, merged or discarded later)
          </label>
          <Show when={(policySets() ?? []).length > 0}>
            <label>
              Policy set
              <select name="policySet">
                <option value="">none: the policies every session has</option>
                <For each={policySets()}>{(set) => <option value={set}>{set}</option>}</For>
              </select>
            </label>
          </Show>
          <label class="check">
            <input type="checkbox" name="withoutPolicies" value="yes" />
            Without policies: every tool call allowed, and recorded (asks for a yes)
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
          <select value={status()} onChange={(e) => chooseStatus(e.currentTarget.value)}>
            <option value="">all</option>
            <option value={LIVE}>not finished</option>
            <For each={SESSION_STATUSES}>{(s) => <option value={s}>{s}</option>}</For>
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search()} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="name, provider, directory" />
        </label>
      </div>
      <Show when={shown().length > 0} fallback={<p class="muted">{listing.loading ? 'Loading…' : 'No sessions.'}</p>}>
        <ul class="list" aria-label="Sessions">
          <For each={shown()}>{(session) => <SessionRow session={session} />}</For>
        </ul>
      </Show>
      <Show when={listing()?.finishedLeftOut}>
        {(leftOut) => (
          <p class="muted">
            {leftOut()} older finished {leftOut() === 1 ? 'session is' : 'sessions are'} not shown.{' '}
            <button type="button" class="link" onClick={() => setAllFinished(true)}>
              Show them
            </button>
          </p>
        )}
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
          {props.session.provider} · {sessionPlace(props.session)} · {age(props.session.createdAt)} ago
        </div>
      </div>
      <Status session={props.session} />
      <Show when={live()}>
        <ActionButton class="secondary" label={`Stop ${props.session.name}`} action={() => call(sessionEndpoints.stop, { params: { id: props.session.id } })}>
          Stop
        </ActionButton>
        <ActionButton class="danger" label={`Kill ${props.session.name}`} confirm={`Kill ${props.session.name}? Its program is ended at once, with no chance to save its work.`} action={() => call(sessionEndpoints.kill, { params: { id: props.session.id } })}>
          Kill
        </ActionButton>
      </Show>
      <Show when={!live()}>
        <ActionButton
          class="secondary"
          label={`Remove ${props.session.name}`}
          confirm={`Remove ${props.session.name} from the list? Its events and transcript are kept, and its name is free again.`}
          action={() => call(sessionEndpoints.remove, { params: { id: props.session.id } })}
        >
          Remove
        </ActionButton>
      </Show>
    </li>
  );
}

/** A provider option's form field, named `option:KEY`: a checkbox, a choice or a text. */
function ProviderOptionField(props: { option: SchemaField }) {
  const name = `option:${props.option.key}`;
  // permissionMode, claude_bin: permission mode, claude bin
  const title = props.option.key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`).replaceAll('_', ' ');
  const label = props.option.description || title;
  if (props.option.type === 'boolean') {
    return (
      <label class="check">
        <input type="checkbox" name={name} /> {label}
      </label>
    );
  }
  return (
    <label>
      {title}
      <Show
        when={props.option.choices}
        fallback={<input name={name} type={props.option.type === 'number' ? 'number' : 'text'} placeholder="optional" title={label} autocomplete="off" />}
      >
        {(choices) => (
          <select name={name} title={label}>
            <option value="">(default)</option>
            <For each={choices()}>{(choice) => <option value={choice}>{choice}</option>}</For>
          </select>
        )}
      </Show>
    </label>
  );
}

/** The filled-in option fields as the provider's `options`; undefined when none is. */
function providerOptionValues(options: readonly SchemaField[], values: Record<string, string>): Record<string, unknown> | undefined {
  const given = options.flatMap((option): [string, unknown][] => {
    const value = values[`option:${option.key}`];
    if (value === undefined || value === '') return [];
    if (option.type === 'boolean') return [[option.key, true]];
    return [[option.key, option.type === 'number' ? Number(value) : value]];
  });
  return given.length > 0 ? Object.fromEntries(given) : undefined;
}

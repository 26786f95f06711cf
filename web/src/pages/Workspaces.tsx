import { useNavigate } from '@solidjs/router';
import { createResource, createSignal, For, Show } from 'solid-js';
import { envSetEndpoints, workspaceEndpoints, type EnvSet, type Workspace } from '@codepiper/workspaces-contract';
import { policyEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { call } from '../api.js';
import { ActionButton, ActionForm } from '../components/Form.jsx';

/** `NAME=value` lines as variables; a line that is not one is refused by name. */
function variablesFrom(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`"${line}" is not NAME=value`);
    env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

const words = (text: string | undefined): string[] => (text ?? '').split(/[\s,]+/).filter(Boolean);

/** What a workspace gives its sessions, in one line. */
const defaults = (w: Workspace): string =>
  [w.provider ?? 'no provider', w.envSet ? `env set ${w.envSet}` : '', w.policySet ? `policy set ${w.policySet}` : '', w.worktree ? 'a worktree per session' : ''].filter(Boolean).join(' · ');

function WorkspaceRow(props: { workspace: Workspace; refetch: () => void }) {
  const navigate = useNavigate();
  const w = () => props.workspace;
  return (
    <li class="row" data-workspace={w().name}>
      <div class="grow">
        <strong>{w().name}</strong> <code class="wrap">{w().dir}</code>
        <div class="muted small">{defaults(w())}</div>
        <ActionForm
          class="prompt"
          label={`Start a session in ${w().name}`}
          submit="Start here"
          action={async (values) => {
            const session = await call(workspaceEndpoints.start, { params: { name: w().name }, body: values.prompt ? { prompt: values.prompt } : {} });
            navigate(`/sessions/${session.id}`);
          }}
        >
          <label class="grow">
            <span class="visually-hidden">First prompt for {w().name}</span>
            <input name="prompt" placeholder="A first prompt (optional)" autocomplete="off" />
          </label>
        </ActionForm>
      </div>
      <ActionButton
        class="danger"
        label={`Remove ${w().name}`}
        confirm={`Remove workspace ${w().name}? Its sessions and files stay.`}
        action={async () => {
          await call(workspaceEndpoints.remove, { params: { name: w().name } });
          props.refetch();
        }}
      >
        Remove
      </ActionButton>
    </li>
  );
}

function EnvSetRow(props: { set: EnvSet; refetch: () => void }) {
  return (
    <li class="row" data-env-set={props.set.name}>
      <div class="grow">
        <strong>{props.set.name}</strong>
        <div class="muted small wrap">
          {[...Object.entries(props.set.env).map(([name, value]) => `${name}=${value}`), ...props.set.secrets.map((name) => `${name} (secret)`)].join(' · ') || 'empty'}
        </div>
      </div>
      <ActionButton
        class="danger"
        label={`Remove env set ${props.set.name}`}
        confirm={`Remove env set ${props.set.name}?`}
        action={async () => {
          await call(envSetEndpoints.remove, { params: { name: props.set.name } });
          props.refetch();
        }}
      >
        Remove
      </ActionButton>
    </li>
  );
}

/** Workspaces (a directory and its sessions' defaults) and env sets: listed, added, removed; a session started in a workspace. */
export function WorkspacesPage() {
  const [workspaces, { refetch }] = createResource(async () => (await call(workspaceEndpoints.list)).workspaces);
  const [envSets, { refetch: refetchSets }] = createResource(async () => (await call(envSetEndpoints.list)).envSets);
  const [providers] = createResource(async () => (await call(sessionEndpoints.providers)).providers);
  const [policySets] = createResource(async () => [...new Set((await call(policyEndpoints.list, { query: {} })).policies.flatMap((p) => (p.set ? [p.set] : [])))].sort());
  const [adding, setAdding] = createSignal(false);

  const add = async (values: Record<string, string>) => {
    await call(workspaceEndpoints.create, {
      body: {
        name: values.name ?? '',
        dir: values.dir ?? '',
        ...(values.provider ? { provider: values.provider } : {}),
        ...(values.envSet ? { envSet: values.envSet } : {}),
        ...(values.policySet ? { policySet: values.policySet } : {}),
        ...(values.worktree ? { worktree: true } : {}),
      },
    });
    setAdding(false);
    await refetch();
  };
  const saveSet = async (values: Record<string, string>, form: HTMLFormElement) => {
    await call(envSetEndpoints.put, { params: { name: values.name ?? '' }, body: { env: variablesFrom(values.env ?? ''), secrets: words(values.secrets) } });
    form.reset();
    await refetchSets();
  };
  const none = (label: string) => <option value="">{label}</option>;

  return (
    <section aria-labelledby="workspaces-title">
      <div class="heading">
        <h1 id="workspaces-title">Workspaces</h1>
        <button type="button" onClick={() => setAdding(!adding())} aria-expanded={adding()}>
          {adding() ? 'Close' : 'New workspace'}
        </button>
      </div>
      <Show when={adding()}>
        <ActionForm label="New workspace" submit="Add" action={add}>
          <label>Name<input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" placeholder="api" autocomplete="off" /></label>
          <label>Directory<input name="dir" required placeholder="/home/me/src/api" autocomplete="off" /></label>
          <label>
            Provider
            <select name="provider">
              {none('(chosen at each start)')}
              <For each={providers()}>{(p) => <option value={p.id}>{p.id}</option>}</For>
            </select>
          </label>
          <label>
            Env set
            <select name="envSet">
              {none('(none)')}
              <For each={envSets()}>{(s) => <option value={s.name}>{s.name}</option>}</For>
            </select>
          </label>
          <label>
            Policy set
            <select name="policySet">
              {none('(none)')}
              <For each={policySets()}>{(s) => <option value={s}>{s}</option>}</For>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" name="worktree" value="yes" />
            A git worktree of its own for each session
          </label>
        </ActionForm>
      </Show>
      <ul class="list" aria-label="Workspaces">
        <For each={workspaces()} fallback={<li class="muted">{workspaces.loading ? 'Loading…' : 'No workspaces yet.'}</li>}>
          {(workspace) => <WorkspaceRow workspace={workspace} refetch={() => void refetch()} />}
        </For>
      </ul>
      <h2>Env sets</h2>
      <p class="muted small">Variables are shown to whoever signs in; secrets are names from the secret store (codepiper secret set), their values never shown.</p>
      <ul class="list" aria-label="Env sets">
        <For each={envSets()} fallback={<li class="muted">{envSets.loading ? 'Loading…' : 'No env sets yet.'}</li>}>
          {(set) => <EnvSetRow set={set} refetch={() => void refetchSets()} />}
        </For>
      </ul>
      <ActionForm label="Save an env set" submit="Save env set" action={saveSet}>
        <label>Name<input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" placeholder="dev" autocomplete="off" /></label>
        <label class="wide">
          Variables (NAME=value, one a line)
          <textarea name="env" rows="3" placeholder={'NODE_ENV=development\nLOG_LEVEL=debug'} />
        </label>
        <label class="wide">Secrets (names)<input name="secrets" placeholder="GITHUB_TOKEN" autocomplete="off" /></label>
      </ActionForm>
    </section>
  );
}

import { A, useNavigate, useParams } from '@solidjs/router';
import { createResource, For, Show } from 'solid-js';
import { describeRunEvent, workflowEndpoints, workflowRunEndpoints, type StepEventPayload, type WorkflowFile } from '@codepiper/workflows-contract';
import type { CodePiperEvent } from '@codepiper/events-contract';
import { call } from '../api.js';
import { Scroll } from '../components/Scroll.jsx';
import { ActionButton, ActionForm } from '../components/Form.jsx';
import { age } from '../components/Status.jsx';
import { debounce, onEvents } from '../live.js';

/** Workflow files (start a run of one) and runs. */
export function WorkflowsPage() {
  const [files] = createResource(() => call(workflowEndpoints.files));
  const [runs, { refetch }] = createResource(async () => (await call(workflowRunEndpoints.list, { query: {} })).runs);
  onEvents(['workflow.run'], debounce(() => void refetch()));
  return (
    <section aria-labelledby="workflows-title">
      <h1 id="workflows-title">Workflows</h1>
      <div class="heading">
        <h2>Files</h2>
        <A class="button" href="/workflows/edit">
          New workflow
        </A>
      </div>
      <Show when={(files()?.files ?? []).length > 0} fallback={<p class="muted">No workflow files in {files()?.dirs.join(', ') ?? 'the workflow directories'}.</p>}>
        <ul class="list" aria-label="Workflow files">
          <For each={files()?.files}>{(file) => <FileRow file={file} />}</For>
        </ul>
      </Show>
      <h2>Runs</h2>
      <ul class="list" aria-label="Workflow runs">
        <For each={runs()} fallback={<li class="muted">No runs yet.</li>}>
          {(run) => (
            <li class="row">
              <div class="grow">
                <A href={`/workflows/runs/${run.id}`} class="title">{run.name}</A>
                <div class="muted small">{run.id.slice(0, 8)} · {age(run.createdAt)} ago · {run.file}</div>
              </div>
              <span class={`status run-${run.status}`}>{run.status}</span>
            </li>
          )}
        </For>
      </ul>
    </section>
  );
}

function FileRow(props: { file: WorkflowFile }) {
  const navigate = useNavigate();
  const start = async (values: Record<string, string>) => {
    const vars = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
    // The file as it is now, not as it was when the page opened.
    const current = (await call(workflowEndpoints.files)).files.find((f) => f.file === props.file.file);
    if (!current) throw new Error(`${props.file.file} is gone`);
    const run = await call(workflowRunEndpoints.start, { body: { source: current.source, file: current.file, vars } });
    navigate(`/workflows/runs/${run.id}`);
  };
  return (
    <li class="row column">
      <div>
        <strong>{props.file.name ?? props.file.file.split('/').pop()}</strong> <span class="muted small">{props.file.file}</span>{' '}
        <A href={`/workflows/edit?file=${encodeURIComponent(props.file.file)}`} aria-label={`Edit ${props.file.file.split('/').pop() ?? ''}`}>
          Edit
        </A>
      </div>
      <Show when={props.file.errors.length === 0} fallback={<p class="error">{props.file.errors.map((e) => `${e.line}:${e.column} ${e.path} ${e.message}`).join('; ')}</p>}>
        <ActionForm label={`Run ${props.file.name}`} submit="Run" action={start} class="form inline">
          <For each={Object.entries(props.file.vars)}>
            {([name, value]) => (
              <label>
                {name}
                <input name={name} placeholder={typeof value === 'string' ? value : JSON.stringify(value)} />
              </label>
            )}
          </For>
        </ActionForm>
      </Show>
    </li>
  );
}

/** One run: its steps as they progress (pushed), its log, and cancel. */
export function RunPage() {
  const params = useParams<{ id: string }>();
  const [run, { refetch }] = createResource(() => params.id, (id) => call(workflowRunEndpoints.show, { params: { id } }));
  const [log, { mutate: setLog, refetch: refetchLog }] = createResource(() => params.id, async (id) => (await call(workflowRunEndpoints.logs, { params: { id } })).events);
  const refreshRun = debounce(() => void refetch());
  const refreshLog = debounce(() => void refetchLog());
  onEvents(['workflow.'], (event: CodePiperEvent) => {
    // Events may come before the first fetch answers: match the id in the address too.
    if ((event.payload as StepEventPayload).run !== (run()?.id ?? params.id)) return;
    refreshRun();
    if (log.loading) refreshLog();
    else setLog((list) => (list?.some((e) => e.id === event.id) ? list : [...(list ?? []), event]));
  });
  return (
    <Show when={run()} fallback={<p class="muted">{run.error ? String(run.error) : 'Loading…'}</p>}>
      {(r) => (
        <section aria-labelledby="run-title">
          <div class="heading">
            <h1 id="run-title">{r().name}</h1>
            <span class={`status run-${r().status}`} data-testid="run-status">{r().status}</span>
            <Show when={r().status === 'running'}>
              <ActionButton class="danger" confirm="Cancel this run? The sessions it started are stopped." action={() => call(workflowRunEndpoints.cancel, { params: { id: r().id } })}>Cancel</ActionButton>
            </Show>
          </div>
          <Show when={r().error}><p class="error">{r().error}</p></Show>
          <Scroll label="Steps of the run">
          <table class="table">
            <caption class="visually-hidden">Steps</caption>
            <thead><tr><th scope="col">Step</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Session</th><th scope="col">Result or error</th></tr></thead>
            <tbody>
              <For each={r().steps}>
                {(step) => (
                  <tr data-step={step.key}>
                    <td>{step.key}{step.id ? ` (${step.id})` : ''}</td>
                    <td>{step.type}</td>
                    <td><span class={`status run-${step.status}`}>{step.status}</span>{step.attempt > 1 ? ` (try ${step.attempt})` : ''}</td>
                    <td>{step.sessionId ? <A href={`/sessions/${step.sessionId}`}>{step.sessionId.slice(0, 8)}</A> : '–'}</td>
                    <td class="wrap">{step.error ?? (typeof step.outputs.result === 'string' ? step.outputs.result : '')}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
          </Scroll>
          <h2>Log</h2>
          <ol class="timeline">
            <For each={log()}>{(event) => <li><time datetime={event.ts}>{event.ts.slice(11, 19)}</time> {describeRunEvent(event)}</li>}</For>
          </ol>
        </section>
      )}
    </Show>
  );
}

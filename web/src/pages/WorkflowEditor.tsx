import { useNavigate, useSearchParams } from '@solidjs/router';
import { createEffect, createResource, createSignal, For, on, Show } from 'solid-js';
import { workflowEndpoints, workflowRunEndpoints, type WorkflowValidation } from '@codepiper/workflows-contract';
import { call, describe } from '../api.js';
import { ActionButton } from '../components/Form.jsx';
import { debounce } from '../live.js';

const NEW_WORKFLOW = 'name: my-workflow\nsteps:\n  - type: shell\n    id: hello\n    command: ["echo", "hello"]\n';

/**
 * A workflow file in an editor that validates as you type: each error at its
 * line (marked beside it, and listed: a tap puts the cursor there). Saved into
 * the workflow directory; run as it is in the editor.
 */
export function WorkflowEditorPage() {
  const [search] = useSearchParams<{ file?: string }>();
  const navigate = useNavigate();
  const [files] = createResource(() => call(workflowEndpoints.files));
  const [source, setSource] = createSignal<string>();
  const [file, setFile] = createSignal('');
  const [validation, setValidation] = createSignal<WorkflowValidation>();
  const [notice, setNotice] = createSignal('');
  let editor: HTMLTextAreaElement | undefined;
  let gutter: HTMLOListElement | undefined;

  // The file named in the address, or a new one in the first workflow directory.
  createEffect(
    on(files, (loaded) => {
      if (!loaded || source() !== undefined) return;
      const existing = loaded.files.find((f) => f.file === search.file);
      setFile(existing?.file ?? `${loaded.dirs[0] ?? ''}/new-workflow.yaml`);
      setSource(existing?.source ?? NEW_WORKFLOW);
    }),
  );
  const validate = debounce(() => {
    const text = source();
    if (text === undefined) return;
    call(workflowEndpoints.validate, { body: { source: text, file: file() } }).then(
      (result) => text === source() && setValidation(result),
      (error: unknown) => setNotice(describe(error)),
    );
  }, 250);
  createEffect(on([source, file], validate));

  const lines = () => (source() ?? '').split('\n').length;
  const errorLines = () => new Set((validation()?.errors ?? []).map((e) => e.line));
  const goTo = (line: number, column: number) => {
    if (!editor) return;
    const offset = (source() ?? '').split('\n').slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0) + column - 1;
    editor.focus();
    editor.setSelectionRange(offset, offset);
  };
  const save = async () => {
    const saved = await call(workflowEndpoints.save, { body: { file: file(), source: source() ?? '' } });
    setNotice(`saved ${saved.file}${saved.errors.length > 0 ? ` (with ${saved.errors.length} error${saved.errors.length > 1 ? 's' : ''})` : ''}`);
  };
  const run = async () => {
    const started = await call(workflowRunEndpoints.start, { body: { source: source() ?? '', file: file() } });
    navigate(`/workflows/runs/${started.id}`);
  };

  return (
    <section class="workflow-editor" aria-labelledby="editor-title">
      <h1 id="editor-title">Edit workflow</h1>
      <Show when={source() !== undefined} fallback={<p class={files.error ? 'error' : 'muted'}>{files.error ? describe(files.error) : 'Loading…'}</p>}>
        <label>
          File
          <input value={file()} onInput={(e) => setFile(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
        </label>
        <div class="editor">
          <ol class="gutter" aria-hidden="true" ref={(element) => (gutter = element)}>
            <For each={Array.from({ length: lines() }, (_, i) => i + 1)}>{(n) => <li classList={{ 'has-error': errorLines().has(n) }}>{n}</li>}</For>
          </ol>
          <textarea
            ref={(element) => (editor = element)}
            aria-label="Workflow YAML"
            aria-describedby="editor-status"
            aria-invalid={(validation()?.errors.length ?? 0) > 0}
            wrap="off"
            spellcheck={false}
            autocapitalize="off"
            value={source()}
            onInput={(e) => setSource(e.currentTarget.value)}
            onScroll={(e) => gutter && (gutter.scrollTop = e.currentTarget.scrollTop)}
          />
        </div>
        <div id="editor-status" role="status" data-testid="editor-status">
          <Show when={validation()} fallback={<p class="muted">Checking…</p>}>
            {(v) => (
              <Show when={v().errors.length > 0} fallback={<p class="ok">Valid: {v().name}, {v().stepCount} step{v().stepCount === 1 ? '' : 's'}.</p>}>
                <ul class="list editor-errors" aria-label="Errors">
                  <For each={v().errors}>
                    {(e) => (
                      <li>
                        <button type="button" class="link" onClick={() => goTo(e.line, e.column)}>
                          Line {e.line}, column {e.column}
                        </button>{' '}
                        {e.path ? <code>{e.path}</code> : null} {e.message}
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            )}
          </Show>
        </div>
        <div class="heading">
          <ActionButton class="secondary" action={save} onError={setNotice}>
            Save
          </ActionButton>
          <ActionButton action={run} onError={setNotice}>
            Run as edited
          </ActionButton>
        </div>
        <p class="muted small" role="alert">
          {notice()}
        </p>
      </Show>
    </section>
  );
}

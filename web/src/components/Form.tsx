import { createSignal, type JSX } from 'solid-js';
import { describe } from '../api.js';

/** The values of a form's named fields. */
export const formValues = (form: HTMLFormElement): Record<string, string> =>
  Object.fromEntries([...new FormData(form).entries()].map(([key, value]) => [key, String(value)]));

/**
 * A form whose submit runs `action` with its values; while it runs the submit
 * button is disabled, and a failure shows as an alert under the fields.
 */
export function ActionForm(props: { action: (values: Record<string, string>, form: HTMLFormElement) => Promise<unknown>; label: string; children: JSX.Element; class?: string; submit: string }) {
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setError('');
    setBusy(true);
    try {
      await props.action(formValues(form), form);
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={props.class ?? 'card form'} aria-label={props.label} onSubmit={(e) => void submit(e)}>
      {props.children}
      <button type="submit" disabled={busy()}>
        {props.submit}
      </button>
      <p class="error" role="alert">
        {error()}
      </p>
    </form>
  );
}

/** A button that runs `action`, disabled while it runs; a failure is shown by `onError` or an alert. */
export function ActionButton(props: {
  action: () => Promise<unknown>;
  children: JSX.Element;
  class?: string;
  label?: string;
  /** For what cannot be undone: the question asked first; the action runs only if the user says yes. */
  confirm?: string;
  /** A tap leaves the focus where it was (in the terminal, whose soft keyboard would close). */
  keepsFocus?: boolean;
  onError?: (message: string) => void;
}) {
  const [busy, setBusy] = createSignal(false);
  const run = async () => {
    if (props.confirm !== undefined && !window.confirm(props.confirm)) return;
    setBusy(true);
    try {
      await props.action();
    } catch (e) {
      (props.onError ?? alert)(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class={props.class} aria-label={props.label} disabled={busy()} onMouseDown={(event) => props.keepsFocus && event.preventDefault()} onClick={() => void run()}>
      {props.children}
    </button>
  );
}

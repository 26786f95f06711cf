import { createSignal } from 'solid-js';

/**
 * Puts `text` on the clipboard. The Clipboard API needs a secure context
 * (HTTPS or this machine); over plain HTTP on a LAN the older copy command
 * does it, from a field that is there only for that moment.
 */
async function copy(text: string): Promise<void> {
  if (navigator.clipboard) return navigator.clipboard.writeText(text);
  const field = document.createElement('textarea');
  field.value = text;
  field.setAttribute('readonly', '');
  field.style.position = 'fixed';
  field.style.opacity = '0';
  document.body.append(field);
  field.select();
  const copied = document.execCommand('copy');
  field.remove();
  if (!copied) throw new Error('the browser refused to copy');
}

/** A button that copies `text` and says so (or says that it could not). */
export function CopyButton(props: { text: string; label: string; children: string }) {
  const [state, setState] = createSignal<'idle' | 'copied' | 'failed'>('idle');
  const run = async () => {
    try {
      await copy(props.text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <button type="button" class="secondary" aria-label={props.label} onClick={() => void run()}>
      {state() === 'copied' ? 'Copied' : state() === 'failed' ? 'Copy failed: select it by hand' : props.children}
    </button>
  );
}

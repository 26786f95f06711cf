import type { JSX } from 'solid-js';

/** A region that scrolls sideways on narrow screens (a wide table); focusable, so a keyboard can scroll it too. */
export function Scroll(props: { label: string; children: JSX.Element }) {
  return (
    <div class="scroll" role="region" aria-label={props.label} tabindex="0">
      {props.children}
    </div>
  );
}

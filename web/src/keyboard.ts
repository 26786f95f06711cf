import { onCleanup } from 'solid-js';

/**
 * While the calling component lives, keeps the CSS variable
 * `--keyboard-inset` at the height a phone's on-screen keyboard covers at the
 * bottom of the page: the layout viewport minus the visual one. Browsers that
 * shrink the page for the keyboard (Android with `interactive-widget`) give 0;
 * iOS Safari overlays it and the visual viewport says by how much.
 */
export function trackKeyboardInset(): void {
  const viewport = window.visualViewport;
  if (!viewport) return;
  const root = document.documentElement;
  const update = () => root.style.setProperty('--keyboard-inset', `${Math.max(0, Math.round(window.innerHeight - viewport.height - viewport.offsetTop))}px`);
  viewport.addEventListener('resize', update);
  viewport.addEventListener('scroll', update);
  update();
  onCleanup(() => {
    viewport.removeEventListener('resize', update);
    viewport.removeEventListener('scroll', update);
    root.style.removeProperty('--keyboard-inset');
  });
}

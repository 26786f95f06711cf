import type { Terminal } from '@xterm/xterm';

/** How far a finger moves before the gesture is taken as a scroll, not a tap. */
const SLOP_PX = 8;

/**
 * Scrolls `term`'s scrollback with one finger, the content following it.
 * xterm.js 6.0 scrolls by wheel only (its viewport is no longer a native
 * scroller: xtermjs/xterm.js#5489, fixed only in 6.1 betas), so a phone could
 * not reach the scrollback. Lines are scrolled in the buffer, never sent to
 * the program as keys. Returns the function that stops it.
 */
export function followTouchScroll(element: HTMLElement, term: Terminal): () => void {
  let lastY: number | undefined;
  let startX = 0;
  let startY = 0;
  let scrolling = false;
  /** Pixels moved and not yet scrolled: less than a row. */
  let pending = 0;

  const start = (event: TouchEvent) => {
    const touch = event.touches.length === 1 ? event.touches[0] : undefined;
    lastY = touch?.clientY;
    startX = touch?.clientX ?? 0;
    startY = touch?.clientY ?? 0;
    scrolling = false;
    pending = 0;
  };
  const move = (event: TouchEvent) => {
    const touch = event.touches[0];
    if (lastY === undefined || !touch || event.touches.length !== 1) return;
    if (!scrolling) {
      const [dx, dy] = [Math.abs(touch.clientX - startX), Math.abs(touch.clientY - startY)];
      if (dy < SLOP_PX || dy < dx) return;
      scrolling = true;
    }
    event.preventDefault();
    const rowHeight = element.clientHeight / term.rows;
    pending += lastY - touch.clientY;
    lastY = touch.clientY;
    const lines = Math.trunc(pending / rowHeight);
    if (lines !== 0) {
      term.scrollLines(lines);
      pending -= lines * rowHeight;
    }
  };
  const end = () => {
    lastY = undefined;
  };
  element.addEventListener('touchstart', start, { passive: true });
  element.addEventListener('touchmove', move, { passive: false });
  element.addEventListener('touchend', end);
  element.addEventListener('touchcancel', end);
  return () => {
    element.removeEventListener('touchstart', start);
    element.removeEventListener('touchmove', move);
    element.removeEventListener('touchend', end);
    element.removeEventListener('touchcancel', end);
  };
}

import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { sessionEndpoints, terminalClosedForGood, type TerminalServerMessage } from '@codepiper/sessions-contract';
import { openSocket } from '../api.js';
import { debounce } from '../live.js';
import { leaveQueriesToTmux } from '../terminal-queries.js';
import { followTouchScroll } from '../touch-scroll.js';

/** Where the terminal's connection stands, shown to the user and as `data-state` (tests read it). */
type ConnectionState = 'connecting' | 'ready' | 'reconnecting' | 'ended';

/** Waits between tries to reconnect: quick at first, then every few seconds. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];


const STATE_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  ready: '',
  reconnecting: 'Connection lost: reconnecting… Keys typed now are not sent.',
  ended: 'The session has ended.',
};

/**
 * A session's live terminal: the daemon sends the scrollback and the screen,
 * drawn at this terminal's size, then every byte as it is printed. Keys typed
 * here go to the session; the session's terminal takes this window's size.
 * One finger scrolls the scrollback. A dropped connection (a daemon restart, a phone that slept, a network that
 * came back) is retried by itself, and the page says so meanwhile.
 */
export function Terminal(props: { sessionId: string; onNotice?: (message: string) => void; describedBy?: string | undefined }) {
  let host!: HTMLDivElement;
  const [state, setState] = createSignal<ConnectionState>('connecting');
  onMount(() => {
    const term = new XTerm({ cursorBlink: true, fontSize: 13, scrollback: 5000, theme: { background: '#0b0c0e' }, screenReaderMode: false });
    const fit = new FitAddon();
    term.loadAddon(fit);
    leaveQueriesToTmux(term);
    term.open(host);
    fit.fit();
    let socket: WebSocket | undefined;
    let retries = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let disposed = false;

    const show = (next: ConnectionState) => {
      setState(next);
      host.dataset.state = next;
    };
    const send = (message: object): boolean => {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    };
    const resize = () => {
      fit.fit();
      send({ type: 'resize', cols: term.cols, rows: term.rows });
    };
    const connect = () => {
      clearTimeout(retryTimer);
      if (disposed || state() === 'ended' || (socket && socket.readyState !== WebSocket.CLOSED)) return;
      fit.fit();
      const current = openSocket(sessionEndpoints.terminal, { id: props.sessionId }, { cols: term.cols, rows: term.rows });
      socket = current;
      let first = true;
      current.onmessage = (message) => {
        if (typeof message.data !== 'string') {
          // The first frame redraws everything, scrollback included: what an earlier connection left goes first.
          if (first) term.reset();
          first = false;
          term.write(new Uint8Array(message.data as ArrayBuffer));
          return;
        }
        const notice = JSON.parse(message.data) as TerminalServerMessage;
        if (notice.type === 'ready') {
          retries = 0;
          show('ready');
        } else props.onNotice?.(notice.message);
      };
      current.onclose = (event) => {
        if (disposed || current !== socket) return;
        if (terminalClosedForGood(event.code)) return show('ended');
        show('reconnecting');
        retryTimer = setTimeout(connect, RETRY_DELAYS_MS[Math.min(retries++, RETRY_DELAYS_MS.length - 1)]);
      };
    };
    // Back from sleep or offline: try now rather than at the next scheduled try.
    const retryNow = () => {
      if (document.visibilityState === 'visible' && state() === 'reconnecting') connect();
    };

    const typed = term.onData((data) => {
      if (!send({ type: 'input', data })) props.onNotice?.('Not connected to the session: what was just typed was not sent.');
    });
    const stopTouchScroll = followTouchScroll(host, term);
    const observer = new ResizeObserver(debounce(resize, 100));
    observer.observe(host);
    window.addEventListener('online', retryNow);
    document.addEventListener('visibilitychange', retryNow);
    show('connecting');
    connect();
    onCleanup(() => {
      disposed = true;
      clearTimeout(retryTimer);
      window.removeEventListener('online', retryNow);
      document.removeEventListener('visibilitychange', retryNow);
      observer.disconnect();
      stopTouchScroll();
      typed.dispose();
      socket?.close();
      term.dispose();
    });
  });
  return (
    <>
      <Show when={state() !== 'ready'}>
        <p class="terminal-state" role="status" data-testid="terminal-state">
          {STATE_TEXT[state()]}
        </p>
      </Show>
      <div class="session-terminal" ref={(element) => (host = element)} role="application" aria-label="Session terminal" aria-describedby={props.describedBy} data-testid="terminal" />
    </>
  );
}

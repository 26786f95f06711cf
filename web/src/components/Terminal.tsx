import { onCleanup, onMount } from 'solid-js';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { sessionEndpoints, type TerminalServerMessage } from '@codepiper/sdk/contracts';
import { openSocket } from '../api.js';
import { debounce } from '../live.js';

/**
 * A session's live terminal: the daemon pushes the current screen first, then
 * every byte as it is printed. Keys typed here go to the session; the
 * session's terminal takes this window's size.
 */
export function Terminal(props: { sessionId: string; onNotice?: (message: string) => void; describedBy?: string | undefined }) {
  let host!: HTMLDivElement;
  onMount(() => {
    const term = new XTerm({ cursorBlink: true, fontSize: 13, scrollback: 5000, theme: { background: '#0b0c0e' }, screenReaderMode: false });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host);
    fit.fit();
    const socket = openSocket(sessionEndpoints.terminal, { id: props.sessionId });
    const send = (message: object) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    const resize = () => {
      fit.fit();
      send({ type: 'resize', cols: term.cols, rows: term.rows });
    };
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return term.write(new Uint8Array(message.data as ArrayBuffer));
      const notice = JSON.parse(message.data) as TerminalServerMessage;
      if (notice.type === 'ready') host.dataset.ready = 'true';
      else props.onNotice?.(notice.message);
    };
    socket.onopen = resize;
    socket.onclose = () => (host.dataset.ready = 'closed');
    const typed = term.onData((data) => send({ type: 'input', data }));
    const observer = new ResizeObserver(debounce(resize, 100));
    observer.observe(host);
    onCleanup(() => {
      observer.disconnect();
      typed.dispose();
      socket.close();
      term.dispose();
    });
  });
  return <div class="session-terminal" ref={(element) => (host = element)} role="application" aria-label="Session terminal" aria-describedby={props.describedBy} data-testid="terminal" />;
}

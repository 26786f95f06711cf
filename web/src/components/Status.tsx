import { Show } from 'solid-js';
import type { SessionRecord } from '@codepiper/sessions-contract';

const LABELS: Record<SessionRecord['status'], string> = {
  starting: 'starting',
  running: 'running',
  working: 'working',
  idle: 'idle',
  waiting: 'waiting for permission',
  unreachable: 'host unreachable',
  exited: 'exited',
  crashed: 'crashed',
};

/** A session's status as a labelled pill, followed by what it waits for or how it ended, in words (no hover on a phone). */
export function Status(props: { session: Pick<SessionRecord, 'status' | 'statusDetail' | 'exitCode'> }) {
  const detail = () => [props.session.statusDetail, props.session.exitCode === null ? null : `exit code ${props.session.exitCode}`].filter(Boolean).join(', ');
  return (
    <>
      <span class={`status status-${props.session.status}`} data-status={props.session.status}>
        {LABELS[props.session.status]}
      </span>
      <Show when={detail()}>
        <span class="status-detail" data-testid="status-detail">
          {detail()}
        </span>
      </Show>
    </>
  );
}

/** `3m`, `2h`, `5d` since an ISO time. */
export function age(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

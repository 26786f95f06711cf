import { createResource, For, Show } from 'solid-js';
import { approvalEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { call } from '../api.js';
import { Approval } from '../components/Approval.jsx';
import { debounce, onEvents } from '../live.js';

/** Every pending approval across sessions, answerable with one tap. */
export function ApprovalsPage() {
  const [approvals, { refetch }] = createResource(async () => (await call(approvalEndpoints.list, { query: {} })).approvals);
  // Each question names its session (the id alone says little on a phone): one still running, which is asking.
  const [names, { refetch: refetchNames }] = createResource(async () => new Map((await call(sessionEndpoints.list, { query: { finished: 0 } })).sessions.map((s) => [s.id, s.name])));
  onEvents(['approval.'], debounce(() => void refetch()));
  onEvents(['session.started'], debounce(() => void refetchNames()));
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <Show when={(approvals() ?? []).length > 0} fallback={<p class="muted">{approvals.loading ? 'Loading…' : 'Nothing waits for an answer.'}</p>}>
        <ul class="list" aria-label="Pending approvals">
          <For each={approvals()}>{(approval) => <Approval approval={approval} sessionName={names()?.get(approval.sessionId) ?? approval.sessionId.slice(0, 8)} />}</For>
        </ul>
      </Show>
    </section>
  );
}

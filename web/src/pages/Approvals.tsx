import { createResource, For, Show } from 'solid-js';
import { approvalEndpoints } from '@codepiper/sdk/contracts';
import { call } from '../api.js';
import { Approval } from '../components/Approval.jsx';
import { debounce, onEvents } from '../live.js';

/** Every pending approval across sessions, answerable with one tap. */
export function ApprovalsPage() {
  const [approvals, { refetch }] = createResource(async () => (await call(approvalEndpoints.list, { query: {} })).approvals);
  onEvents(['approval.'], debounce(() => void refetch()));
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <Show when={(approvals() ?? []).length > 0} fallback={<p class="muted">{approvals.loading ? 'Loading…' : 'Nothing waits for an answer.'}</p>}>
        <ul class="list" aria-label="Pending approvals">
          <For each={approvals()}>{(approval) => <Approval approval={approval} showSession />}</For>
        </ul>
      </Show>
    </section>
  );
}

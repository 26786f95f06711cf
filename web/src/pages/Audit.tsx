import { A } from '@solidjs/router';
import { createResource, createSignal, For, Show } from 'solid-js';
import { auditEndpoints } from '@codepiper/audit-contract';
import { call } from '../api.js';
import { describeInput } from '../components/Approval.jsx';

interface AuditFilters {
  decision?: 'allow' | 'ask' | 'deny';
  session?: string;
  since?: string;
}

/** The audit trail, newest first, with the CLI's filters: one entry per card, read on a phone without sideways scrolling. */
export function AuditPage() {
  const [filters, setFilters] = createSignal<AuditFilters>({});
  const [entries] = createResource(filters, async (f) => (await call(auditEndpoints.list, { query: { ...f, limit: 500, newest: true } })).entries);
  const apply = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '') || undefined;
    const since = text('since');
    setFilters({ decision: text('decision') as AuditFilters['decision'], session: text('session'), since: since ? new Date(`${since}T00:00:00Z`).toISOString() : undefined });
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <form class="filters" role="search" aria-label="Audit filters" onSubmit={apply}>
        <label>
          Decision
          <select name="decision">
            <option value="">all</option>
            <option>allow</option>
            <option>ask</option>
            <option>deny</option>
          </select>
        </label>
        <label>Session<input name="session" placeholder="id or prefix" /></label>
        <label>Since<input name="since" type="date" /></label>
        <button type="submit">Apply</button>
      </form>
      <p class="error" role="alert">{entries.error ? String(entries.error) : ''}</p>
      <ol class="list audit" aria-label="Recorded decisions, newest first">
        <For each={entries()} fallback={<li class="muted">{entries.loading ? 'Loading…' : 'Nothing recorded that matches.'}</li>}>
          {(e) => (
            <li class="row column" data-audit={e.id}>
              <div class="audit-head">
                <span class={`action action-${e.decision}`}>{e.decision}</span>
                <strong>{e.tool}</strong>
                <time class="muted small" datetime={e.ts}>
                  {e.ts.replace('T', ' ').slice(0, 19)}
                </time>
              </div>
              <code class="audit-input">{describeInput(e.input)}</code>
              <div class="muted small">
                {[e.reason, e.policyName && e.policyName !== '-' ? `policy ${e.policyName}` : '', `by ${e.answeredBy}`].filter(Boolean).join(' · ')}
                <Show when={e.sessionId}>
                  {(id) => (
                    <>
                      {' · '}
                      <A href={`/sessions/${id()}`}>session {id().slice(0, 8)}</A>
                    </>
                  )}
                </Show>
              </div>
            </li>
          )}
        </For>
      </ol>
    </section>
  );
}

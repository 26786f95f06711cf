import { createResource, createSignal, For } from 'solid-js';
import { auditEndpoints } from '@codepiper/sdk/contracts';
import { call } from '../api.js';
import { Scroll } from '../components/Scroll.jsx';
import { describeInput } from '../components/Approval.jsx';

interface AuditFilters {
  decision?: 'allow' | 'ask' | 'deny';
  session?: string;
  since?: string;
}

/** The audit trail, newest first, with the CLI's filters. */
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
      <Scroll label="Audit entries">
          <table class="table">
        <caption class="visually-hidden">Recorded decisions, newest first</caption>
        <thead>
          <tr><th scope="col">Time</th><th scope="col">Session</th><th scope="col">Tool</th><th scope="col">Input</th><th scope="col">Decision</th><th scope="col">By</th></tr>
        </thead>
        <tbody>
          <For each={entries()}>
            {(e) => (
              <tr>
                <td>{e.ts.replace('T', ' ').slice(0, 19)}</td>
                <td>{e.sessionId?.slice(0, 8) ?? '–'}</td>
                <td>{e.tool}</td>
                <td><code class="wrap">{describeInput(e.input)}</code></td>
                <td><span class={`action action-${e.decision}`}>{e.decision}</span> <span class="muted small">{e.policyName}</span></td>
                <td>{e.answeredBy}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
          </Scroll>
    </section>
  );
}

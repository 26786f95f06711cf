import { createResource, Show } from 'solid-js';
import { analyticsEndpoints, type UsageTotals as Totals } from '@codepiper/analytics-contract';
import { call } from '../api.js';
import { debounce, onEvents } from '../live.js';

const count = new Intl.NumberFormat();
export const money = (usd: number | null): string => (usd === null ? 'unpriced' : `$${usd.toFixed(usd < 1 ? 4 : 2)}`);
export const percent = (rate: number | null): string => (rate === null ? '–' : `${(rate * 100).toFixed(1)} %`);

/** Token and cost figures of a report's total. */
export function TotalsLine(props: { totals: Totals }) {
  return (
    <>
    <dl class="totals">
      <div><dt>Input</dt><dd>{count.format(props.totals.input)}</dd></div>
      <div><dt>Output</dt><dd>{count.format(props.totals.output)}</dd></div>
      <div><dt>Cache write</dt><dd>{count.format(props.totals.cacheWrite5m + props.totals.cacheWrite1h)}</dd></div>
      <div><dt>Cache read</dt><dd>{count.format(props.totals.cacheRead)}</dd></div>
      <div><dt>Cache hit rate</dt><dd>{percent(props.totals.cacheHitRate)}</dd></div>
      <div><dt>Cost</dt><dd>{money(props.totals.cost)}{props.totals.unpricedModels.length > 0 ? '*' : ''}</dd></div>
    </dl>
    <Show when={props.totals.unpricedModels.length > 0}>
      <p class="muted unpriced">
        * No price for {props.totals.unpricedModels.join(', ')}: their tokens are not in the cost. To price one, add it to config.yaml under{' '}
        <code>analytics.prices</code> (USD per million tokens) and restart the daemon.
      </p>
    </Show>
    </>
  );
}

/** A session's tokens and cost, updated as its agent answers. */
export function UsageTotals(props: { sessionId: string }) {
  const [report, { refetch }] = createResource(() => props.sessionId, (session) => call(analyticsEndpoints.usage, { query: { by: 'session', session } }));
  const refresh = debounce(() => void refetch(), 1000);
  onEvents(['session.turn_ended'], (event) => {
    if (event.sessionId === props.sessionId) refresh();
  });
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Tokens and cost</h2>
      <Show when={report()} fallback={<p class="muted">{report.error ? 'No usage figures.' : 'Loading…'}</p>}>
        {(r) => <TotalsLine totals={r().total} />}
      </Show>
    </section>
  );
}

import { createResource, createSignal, For, Show } from 'solid-js';
import { analyticsEndpoints, USAGE_GROUPINGS, type UsageGrouping } from '@codepiper/analytics-contract';
import { call } from '../api.js';
import { Scroll } from '../components/Scroll.jsx';
import { BarChart } from '../components/BarChart.jsx';
import { money, percent, TotalsLine } from '../components/UsageTotals.jsx';

const TOKEN_SERIES = [
  { name: 'input', color: '#60a5fa' },
  { name: 'output', color: '#f472b6' },
  { name: 'cache write', color: '#fbbf24' },
  { name: 'cache read', color: '#34d399' },
];

interface Filters {
  by: UsageGrouping;
  since?: string;
  until?: string;
  session?: string;
}

const isoDay = (day: string | undefined): string | undefined => (day ? new Date(`${day}T00:00:00Z`).toISOString() : undefined);

/** Tokens per day, cost, cache hit rate and tool use, with the CLI's filters. */
export function AnalyticsPage() {
  const [filters, setFilters] = createSignal<Filters>({ by: 'model' });
  const query = () => {
    const f = filters();
    return { ...(f.since ? { since: f.since } : {}), ...(f.until ? { until: f.until } : {}), ...(f.session ? { session: f.session } : {}) };
  };
  const [grouped] = createResource(filters, () => call(analyticsEndpoints.usage, { query: { by: filters().by, ...query() } }));
  const [daily] = createResource(filters, () => call(analyticsEndpoints.usage, { query: { by: 'day', ...query() } }));
  const [tools] = createResource(filters, () => call(analyticsEndpoints.tools, { query: query() }));

  const apply = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '') || undefined;
    setFilters({ by: (text('by') ?? 'model') as UsageGrouping, since: isoDay(text('since')), until: isoDay(text('until')), session: text('session') });
  };

  return (
    <section aria-labelledby="analytics-title">
      <h1 id="analytics-title">Analytics</h1>
      <form class="filters" role="search" aria-label="Analytics filters" onSubmit={apply}>
        <label>
          Group by
          <select name="by">
            <For each={USAGE_GROUPINGS}>{(g) => <option value={g} selected={g === filters().by}>{g}</option>}</For>
          </select>
        </label>
        <label>Since<input name="since" type="date" /></label>
        <label>Until<input name="until" type="date" /></label>
        <label>Session<input name="session" placeholder="id or prefix" /></label>
        <button type="submit">Apply</button>
      </form>
      <p class="error" role="alert">{grouped.error ? String(grouped.error) : ''}</p>
      <Show when={grouped()}>{(r) => <TotalsLine totals={r().total} />}</Show>
      <div class="charts">
        <BarChart
          title="Tokens per day"
          series={TOKEN_SERIES}
          bars={(daily()?.rows ?? []).map((row) => ({ label: row.key, values: [row.input, row.output, row.cacheWrite5m + row.cacheWrite1h, row.cacheRead] })).sort((a, b) => a.label.localeCompare(b.label))}
        />
        <BarChart title="Cost per day (USD)" series={[{ name: 'cost', color: '#a78bfa' }]} format={(n) => `$${n.toFixed(2)}`} bars={(daily()?.rows ?? []).map((row) => ({ label: row.key, values: [row.cost ?? 0] })).sort((a, b) => a.label.localeCompare(b.label))} />
        <BarChart title="Cache hit rate per day (%)" series={[{ name: 'hit rate', color: '#34d399' }]} format={(n) => `${n.toFixed(1)} %`} bars={(daily()?.rows ?? []).map((row) => ({ label: row.key, values: [(row.cacheHitRate ?? 0) * 100] })).sort((a, b) => a.label.localeCompare(b.label))} />
        <BarChart title="Tool calls" series={[{ name: 'calls', color: '#fb923c' }]} bars={(tools()?.rows ?? []).map((row) => ({ label: row.tool, values: [row.calls] }))} />
      </div>
      <Show when={grouped()}>
        {(r) => (
          <Scroll label="Usage table">
          <table class="table">
            <caption>Usage by {r().by}; prices as listed on {r().pricesTaken}</caption>
            <thead>
              <tr><th scope="col">{r().by}</th><th scope="col">Input</th><th scope="col">Output</th><th scope="col">Cache write</th><th scope="col">Cache read</th><th scope="col">Hit rate</th><th scope="col">Cost</th></tr>
            </thead>
            <tbody>
              <For each={r().rows}>
                {(row) => (
                  <tr>
                    <th scope="row">{row.key}</th><td>{row.input}</td><td>{row.output}</td><td>{row.cacheWrite5m + row.cacheWrite1h}</td><td>{row.cacheRead}</td><td>{percent(row.cacheHitRate)}</td><td>{money(row.cost)}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
          </Scroll>
        )}
      </Show>
    </section>
  );
}

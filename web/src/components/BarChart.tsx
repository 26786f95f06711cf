import { For, Show } from 'solid-js';

export interface Series {
  name: string;
  color: string;
}

export interface Bar {
  label: string;
  /** One value per series, stacked in series order. */
  values: number[];
}

const HEIGHT = 160;
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/**
 * Stacked bars as SVG: one bar per label, one segment per series. A table of
 * the same numbers follows for screen readers and for reading exact values.
 */
export function BarChart(props: { title: string; series: Series[]; bars: Bar[]; format?: (n: number) => string }) {
  const format = (n: number) => (props.format ?? compact.format)(n);
  const max = () => Math.max(1, ...props.bars.map((bar) => bar.values.reduce((a, b) => a + b, 0)));
  // At least room for a dozen bars, so one bar stays a bar, not a block.
  const width = () => Math.max(12, props.bars.length) * 28;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <Show when={props.bars.length > 0} fallback={<p class="muted">No data in this range.</p>}>
        <div class="legend" aria-hidden="true">
          <For each={props.series}>{(s) => <span><i style={{ background: s.color }} />{s.name}</span>}</For>
        </div>
        <svg viewBox={`0 0 ${width()} ${HEIGHT + 18}`} preserveAspectRatio="xMinYMax meet" aria-hidden="true" class="bars">
          <For each={props.bars}>
            {(bar, i) => {
              let y = HEIGHT;
              return (
                <g>
                  <For each={bar.values}>
                    {(value, k) => {
                      const h = (value / max()) * HEIGHT;
                      y -= h;
                      return <rect x={i() * 28 + 4} y={y} width="20" height={h} fill={props.series[k()]?.color}><title>{`${bar.label} ${props.series[k()]?.name}: ${format(value)}`}</title></rect>;
                    }}
                  </For>
                  <text x={i() * 28 + 14} y={HEIGHT + 13} text-anchor="middle">{bar.label.slice(-5)}</text>
                </g>
              );
            }}
          </For>
        </svg>
        <table class="visually-hidden">
          <caption>{props.title}</caption>
          <thead><tr><th scope="col">{''}</th><For each={props.series}>{(s) => <th scope="col">{s.name}</th>}</For></tr></thead>
          <tbody>
            <For each={props.bars}>{(bar) => <tr><th scope="row">{bar.label}</th><For each={bar.values}>{(v) => <td>{format(v)}</td>}</For></tr>}</For>
          </tbody>
        </table>
      </Show>
    </figure>
  );
}

import { createResource, For, Show } from 'solid-js';
import { hostEndpoints, type HostProbe } from '@codepiper/hosts-contract';
import { call } from '../api.js';

/** What a host has: tmux and the agent CLIs found there. */
const found = (probe: HostProbe): string =>
  [probe.tmux ?? 'no tmux', ...Object.entries(probe.agents).map(([agent, version]) => (version === null ? `no ${agent}` : `${agent} ${version}`))].join(' · ');

/** The machines the daemon reaches over SSH, each checked as the list loads. */
export function Hosts() {
  const [hosts] = createResource(async () => (await call(hostEndpoints.list, { query: {} })).hosts);
  return (
    <>
      <Show when={hosts.loading}>
        <p class="muted" role="status">Reaching each host…</p>
      </Show>
      <ul class="list" aria-label="Hosts">
        <For each={hosts()} fallback={<li class="muted">No hosts (add one where the daemon runs: <code>codepiper host add NAME user@host</code>).</li>}>
          {(host) => (
            <li class="row" data-host={host.name}>
              <div class="grow">
                <strong>{host.name}</strong> <code>{host.destination}{host.port === null ? '' : `:${host.port}`}</code>{' '}
                <Show when={host.probe}>
                  {(probe) => (
                    <>
                      <span class={probe().reachable ? 'status status-running' : 'status status-crashed'}>{probe().reachable ? `reachable, ${probe().latencyMs} ms` : 'unreachable'}</span>
                      <div class="muted small">{probe().reachable ? found(probe()) : probe().error}</div>
                    </>
                  )}
                </Show>
              </div>
            </li>
          )}
        </For>
      </ul>
    </>
  );
}

import { createResource, For, Show } from 'solid-js';
import { hostEndpoints, type HostStatus } from '@codepiper/sdk/contracts';
import { call } from '../api.js';

/** What a host has: tmux and the agent CLIs found there. */
const found = (host: HostStatus): string =>
  [host.probe.tmux ?? 'no tmux', ...Object.entries(host.probe.agents).map(([agent, version]) => (version === null ? `no ${agent}` : `${agent} ${version}`))].join(' · ');

/** The machines the daemon reaches over SSH, each checked as the list loads. */
export function Hosts() {
  const [hosts] = createResource(async () => (await call(hostEndpoints.list)).hosts);
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
                <span class={host.probe.reachable ? 'status status-running' : 'status status-crashed'}>{host.probe.reachable ? `reachable, ${host.probe.latencyMs} ms` : 'unreachable'}</span>
                <div class="muted small">{host.probe.reachable ? found(host) : host.probe.error}</div>
              </div>
            </li>
          )}
        </For>
      </ul>
    </>
  );
}

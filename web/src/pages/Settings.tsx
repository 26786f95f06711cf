import { createResource, createSignal, For, Show } from 'solid-js';
import { daemonEndpoints, type EndpointResponse } from '@codepiper/sdk/browser';
import { call, describe } from '../api.js';
import { AccessTokens } from '../components/AccessTokens.jsx';
import { ActionButton } from '../components/Form.jsx';
import { Hosts } from '../components/Hosts.jsx';
import { PushToggle } from '../components/PushToggle.jsx';
import { chooseTheme, themeChoice, type ThemeChoice } from '../theme.js';

const THEMES: { id: ThemeChoice; label: string }[] = [
  { id: 'dark', label: 'Dark' },
  { id: 'light', label: 'Light' },
  { id: 'system', label: 'As this device is set' },
];

/** "3 d 4 h", "2 h 5 min", "40 s": how long the daemon has run. */
function uptime(seconds: number): string {
  const [d, h, m] = [Math.floor(seconds / 86_400), Math.floor((seconds % 86_400) / 3_600), Math.floor((seconds % 3_600) / 60)];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return m > 0 ? `${m} min` : `${Math.floor(seconds)} s`;
}

const RESTART_WAIT_MS = 60_000;

type DaemonStatus = EndpointResponse<typeof daemonEndpoints.status>;

/** Asks the daemon to restart; resolves with its replacement's status once that answers. */
async function restartDaemon(): Promise<DaemonStatus> {
  const { pid } = await call(daemonEndpoints.restart);
  const deadline = Date.now() + RESTART_WAIT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const status = await call(daemonEndpoints.status).catch(() => undefined);
    if (status && status.pid !== pid) return status;
  }
  throw new Error(`The daemon has not come back after ${RESTART_WAIT_MS / 1000} s: see logs/daemon.out in its home, on the machine it runs on.`);
}

/** This device's choices (theme, notifications) and what the daemon says of itself. */
export function SettingsPage() {
  const [status, { mutate }] = createResource(() => call(daemonEndpoints.status));
  const [restarting, setRestarting] = createSignal(false);
  const restart = async () => {
    setRestarting(true);
    try {
      mutate(await restartDaemon());
    } finally {
      setRestarting(false);
    }
  };
  /** Whether the daemon runs the plugin a card needs (a card of one it does not would only show its 404). */
  const loaded = (plugin: string): boolean => status()?.plugins.some((p) => p.name === plugin) ?? false;
  const [theme, setTheme] = createSignal(themeChoice());
  const pick = (choice: ThemeChoice) => {
    chooseTheme(choice);
    setTheme(choice);
  };
  return (
    <section class="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <section class="card" aria-labelledby="appearance-title">
        <h2 id="appearance-title">Appearance</h2>
        <fieldset class="choices">
          <legend>Theme (on this device)</legend>
          <For each={THEMES}>
            {(t) => (
              <label class="check">
                <input type="radio" name="theme" value={t.id} checked={theme() === t.id} onChange={() => pick(t.id)} />
                {t.label}
              </label>
            )}
          </For>
        </fieldset>
      </section>
      <section class="card" aria-labelledby="notifications-title">
        <h2 id="notifications-title">Notifications</h2>
        <p>Questions and finished turns, pushed to this device even when the dashboard is closed. A session's own can be muted on its page.</p>
        <PushToggle />
      </section>
      <Show when={loaded('auth')}>
        <section class="card" aria-labelledby="tokens-title">
          <h2 id="tokens-title">Access tokens</h2>
          <AccessTokens />
        </section>
      </Show>
      <Show when={loaded('hosts')}>
        <section class="card" aria-labelledby="hosts-title">
          <h2 id="hosts-title">Hosts</h2>
          <Hosts />
        </section>
      </Show>
      <section class="card" aria-labelledby="daemon-title">
        <h2 id="daemon-title">Daemon</h2>
        <Show when={status()} fallback={<p class={status.error ? 'error' : 'muted'}>{status.error ? describe(status.error) : 'Loading…'}</p>}>
          {(s) => (
            <>
              <Show when={s().problems.length > 0}>
                <ul class="list" aria-label="Problems">
                  <For each={s().problems}>{(problem) => <li class="notice">{problem.message}</li>}</For>
                </ul>
              </Show>
              <dl class="facts" data-testid="daemon-facts">
                <div><dt>Version</dt><dd>{s().version}</dd></div>
                <div><dt>Running for</dt><dd>{uptime(s().uptimeSeconds)}</dd></div>
                <div><dt>Process</dt><dd>{s().pid}</dd></div>
                <div><dt>Home</dt><dd><code class="wrap">{s().home}</code></dd></div>
                <div><dt>Web address</dt><dd>{s().web ?? 'none'}</dd></div>
                <div><dt>Plugins</dt><dd>{s().plugins.map((plugin) => plugin.name).join(', ')}</dd></div>
              </dl>
              <ActionButton class="danger" action={restart} confirm="Restart the daemon? Every client is cut off for a moment; sessions keep running and are picked up again.">
                Restart the daemon
              </ActionButton>
              <p class="muted small" role="status">
                {restarting() ? 'Restarting: sessions keep running…' : 'Stopping the daemon is done where it runs (codepiper daemon stop).'}
              </p>
            </>
          )}
        </Show>
      </section>
    </section>
  );
}

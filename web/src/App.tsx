import { HashRouter, Route, A, useLocation, type RouteSectionProps } from '@solidjs/router';
import { createResource, createSignal, For, lazy, Match, onCleanup, Show, Switch, type Component } from 'solid-js';
import { approvalEndpoints } from '@codepiper/policies-contract';
import { authEndpoints } from '@codepiper/auth-contract';
import { contributionEndpoints, daemonEndpoints, type ContributedPage } from '@codepiper/sdk/browser';
import { call, setSignedIn, signedIn } from './api.js';
import { createInbox, InboxContext, seen } from './inbox.js';
import { onEvents, debounce } from './live.js';
import { PushToggle } from './components/PushToggle.jsx';
import { SignIn } from './pages/SignIn.jsx';
import { SessionsPage } from './pages/Sessions.jsx';

/** A page loaded when first opened: the terminal and the charts weigh more than the rest of the app. */
const page = <P extends object>(load: () => Promise<Component<P>>) => lazy(async () => ({ default: await load() }));
const SessionPage = page(async () => (await import('./pages/Session.jsx')).SessionPage);
const ApprovalsPage = page(async () => (await import('./pages/Approvals.jsx')).ApprovalsPage);
const AnalyticsPage = page(async () => (await import('./pages/Analytics.jsx')).AnalyticsPage);
const PoliciesPage = page(async () => (await import('./pages/Policies.jsx')).PoliciesPage);
const AuditPage = page(async () => (await import('./pages/Audit.jsx')).AuditPage);
const WorkflowsPage = page(async () => (await import('./pages/Workflows.jsx')).WorkflowsPage);
const RunPage = page(async () => (await import('./pages/Workflows.jsx')).RunPage);
const WorkflowEditorPage = page(async () => (await import('./pages/WorkflowEditor.jsx')).WorkflowEditorPage);
const PluginPage = page(async () => (await import('./pages/PluginPage.jsx')).PluginPage);
const SettingsPage = page(async () => (await import('./pages/Settings.jsx')).SettingsPage);
const InboxPage = page(async () => (await import('./pages/Inbox.jsx')).InboxPage);
const WorkspacesPage = page(async () => (await import('./pages/Workspaces.jsx')).WorkspacesPage);

/** What the daemon's plugins offer: a feature whose plugin is not loaded has no place in the navigation. */
interface Features {
  plugins: ReadonlySet<string>;
  pages: readonly ContributedPage[];
}

/** The built-in pages after Approvals, each with the plugin it shows. */
const BUILT_IN_PAGES = [
  { plugin: 'analytics', href: '/analytics', title: 'Analytics' },
  { plugin: 'policies', href: '/policies', title: 'Policies' },
  { plugin: 'audit', href: '/audit', title: 'Audit' },
  { plugin: 'workflows', href: '/workflows', title: 'Workflows' },
  { plugin: 'workspaces', href: '/workspaces', title: 'Workspaces' },
] as const;

function Layout(props: RouteSectionProps & { features: Features | undefined }) {
  const loaded = (plugin: string) => props.features?.plugins.has(plugin) ?? true;
  const [pending, { refetch }] = createResource(async () => (await call(approvalEndpoints.list, { query: {} })).approvals.length);
  onEvents(['approval.'], debounce(() => void refetch()));
  const inbox = createInbox();
  const unread = () => (inbox.notices() ?? []).filter((event) => event.id > seen()).length;
  const signOut = async () => {
    await call(authEndpoints.logout).catch(() => undefined);
    setSignedIn(false);
  };
  return (
    <div class="layout">
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <A href="/" class="brand" end>
          CodePiper
        </A>
        <nav aria-label="Main">
          <A href="/" end>Sessions</A>
          <A href="/inbox">
            Inbox
            <Show when={unread() > 0}>
              <span class="badge" aria-label={`${unread()} new`}>{unread()}</span>
            </Show>
          </A>
          <Show when={loaded('policies')}>
            <A href="/approvals">
              Approvals
              <Show when={(pending() ?? 0) > 0}>
                <span class="badge" aria-label={`${pending()} pending`}>{pending()}</span>
              </Show>
            </A>
          </Show>
          <For each={BUILT_IN_PAGES.filter((page) => loaded(page.plugin))}>{(page) => <A href={page.href}>{page.title}</A>}</For>
          <For each={props.features?.pages}>{(page) => <A href={`/plugins/${page.plugin}/${page.id}`}>{page.title}</A>}</For>
          <A href="/settings">Settings</A>
        </nav>
        <PushToggle />
        <button class="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabindex="-1">
        <InboxContext.Provider value={inbox}>{props.children}</InboxContext.Provider>
      </main>
    </div>
  );
}

/** An address no page answers (a mistyped or old bookmark): said as such, with the way back. */
function NoSuchPage() {
  const location = useLocation();
  return (
    <section aria-labelledby="no-such-page-title">
      <h1 id="no-such-page-title">No such page</h1>
      <p>
        Nothing is at <code>#{location.pathname}</code>. <A href="/">Go to the sessions</A>
      </p>
    </section>
  );
}

/** How often an unreachable daemon is tried again. */
const RETRY_MS = 3000;

/** Offline, or the daemon down: said as such, and tried again until it answers (at once when the network returns). */
function Unreachable(props: { retry: () => void }) {
  const [online, setOnline] = createSignal(navigator.onLine);
  const onOnline = () => {
    setOnline(true);
    props.retry();
  };
  const onOffline = () => setOnline(false);
  const timer = setInterval(props.retry, RETRY_MS);
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  onCleanup(() => {
    clearInterval(timer);
    window.removeEventListener('online', onOnline);
    window.removeEventListener('offline', onOffline);
  });
  return (
    <p class="center error" role="status" data-testid="unreachable">
      {online() ? `The daemon at ${location.host} does not answer; trying again…` : 'You are offline; this page comes back by itself when the network does.'}
    </p>
  );
}

export function App() {
  const [session, { refetch }] = createResource(() => call(authEndpoints.session));
  // A 401 from any call (an expired session) brings the sign-in screen back.
  // Read only when it has not failed: a failed resource throws when read, which would stop the page.
  const answer = () => (session.error ? undefined : session());
  const ready = () => signedIn() && answer()?.stage === 'full';
  const [features] = createResource(ready, async (): Promise<Features> => {
    const [status, contributions] = await Promise.all([call(daemonEndpoints.status), call(contributionEndpoints.list)]);
    return { plugins: new Set(status.plugins.map((p) => p.name)), pages: contributions.pages };
  });
  return (
    <Switch fallback={<p class="center">Loading…</p>}>
      <Match when={session.error}>
        <Unreachable retry={() => void refetch()} />
      </Match>
      <Match when={answer() && !ready()}>
        <SignIn
          firstRun={answer()?.firstRun ?? false}
          stage={signedIn() ? (answer()?.stage ?? 'none') : 'none'}
          onDone={async () => {
            await refetch();
            setSignedIn(true);
          }}
        />
      </Match>
      <Match when={ready()}>
        <HashRouter root={(props) => <Layout {...props} features={features()} />}>
          <Route path="/" component={SessionsPage} />
          <Route path="/sessions/:id" component={SessionPage} />
          <Route path="/approvals" component={ApprovalsPage} />
          <Route path="/analytics" component={AnalyticsPage} />
          <Route path="/policies" component={PoliciesPage} />
          <Route path="/audit" component={AuditPage} />
          <Route path="/workflows" component={WorkflowsPage} />
          <Route path="/workflows/runs/:id" component={RunPage} />
          <Route path="/workflows/edit" component={WorkflowEditorPage} />
          <Route path="/settings" component={SettingsPage} />
          <Route path="/inbox" component={InboxPage} />
          <Route path="/workspaces" component={WorkspacesPage} />
          <Route path="/plugins/:plugin/:page" component={() => <PluginPage pages={features()?.pages ?? []} />} />
          <Route path="*" component={NoSuchPage} />
        </HashRouter>
      </Match>
    </Switch>
  );
}

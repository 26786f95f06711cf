import { HashRouter, Route, A, type RouteSectionProps } from '@solidjs/router';
import { createResource, Match, Show, Switch } from 'solid-js';
import { approvalEndpoints, authEndpoints } from '@codepiper/sdk/contracts';
import { call, setSignedIn, signedIn } from './api.js';
import { onEvents, debounce } from './live.js';
import { PushToggle } from './components/PushToggle.jsx';
import { SignIn } from './pages/SignIn.jsx';
import { SessionsPage } from './pages/Sessions.jsx';
import { SessionPage } from './pages/Session.jsx';
import { ApprovalsPage } from './pages/Approvals.jsx';
import { AnalyticsPage } from './pages/Analytics.jsx';
import { PoliciesPage } from './pages/Policies.jsx';
import { AuditPage } from './pages/Audit.jsx';
import { WorkflowsPage, RunPage } from './pages/Workflows.jsx';

function Layout(props: RouteSectionProps) {
  const [pending, { refetch }] = createResource(async () => (await call(approvalEndpoints.list, { query: {} })).approvals.length);
  onEvents(['approval.'], debounce(() => void refetch()));
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
          <A href="/approvals">
            Approvals
            <Show when={(pending() ?? 0) > 0}>
              <span class="badge" aria-label={`${pending()} pending`}>{pending()}</span>
            </Show>
          </A>
          <A href="/analytics">Analytics</A>
          <A href="/policies">Policies</A>
          <A href="/audit">Audit</A>
          <A href="/workflows">Workflows</A>
        </nav>
        <PushToggle />
        <button class="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabindex="-1">
        {props.children}
      </main>
    </div>
  );
}

export function App() {
  const [session, { refetch }] = createResource(() => call(authEndpoints.session));
  // A 401 from any call (an expired session) brings the sign-in screen back.
  const ready = () => signedIn() && session()?.stage === 'full';
  return (
    <Switch fallback={<p class="center">Loading…</p>}>
      <Match when={session.error}>
        <p class="center error">The daemon does not answer: {String(session.error)}</p>
      </Match>
      <Match when={session() && !ready()}>
        <SignIn
          firstRun={session()?.firstRun ?? false}
          stage={signedIn() ? (session()?.stage ?? 'none') : 'none'}
          onDone={async () => {
            await refetch();
            setSignedIn(true);
          }}
        />
      </Match>
      <Match when={ready()}>
        <HashRouter root={Layout}>
          <Route path="/" component={SessionsPage} />
          <Route path="/sessions/:id" component={SessionPage} />
          <Route path="/approvals" component={ApprovalsPage} />
          <Route path="/analytics" component={AnalyticsPage} />
          <Route path="/policies" component={PoliciesPage} />
          <Route path="/audit" component={AuditPage} />
          <Route path="/workflows" component={WorkflowsPage} />
          <Route path="/workflows/runs/:id" component={RunPage} />
        </HashRouter>
      </Match>
    </Switch>
  );
}

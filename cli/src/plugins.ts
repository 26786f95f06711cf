import { fileURLToPath } from 'node:url';
import type { AnyPlugin } from '@codepiper/sdk';
import { createDashboardPlugin } from '@codepiper/plugin-dashboard';
import events from '@codepiper/plugin-events';
import providerClaudeCode from '@codepiper/plugin-provider-claude-code';
import providerCodex from '@codepiper/plugin-provider-codex';
import providerTerminalAgents from '@codepiper/plugin-provider-terminal-agents';
import providerShell from '@codepiper/plugin-provider-shell';
import sessions from '@codepiper/plugin-sessions';
import workflows from '@codepiper/plugin-workflows';
import policies from '@codepiper/plugin-policies';
import analytics from '@codepiper/plugin-analytics';
import audit from '@codepiper/plugin-audit';
import secrets from '@codepiper/plugin-secrets';
import auth from '@codepiper/plugin-auth';
import notifications from '@codepiper/plugin-notifications';
import worktrees from '@codepiper/plugin-worktrees';
import workspaces from '@codepiper/plugin-workspaces';
import hosts from '@codepiper/plugin-hosts';

/** The dashboard's build (web/ in the repository). */
const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** What `codepiper daemon` loads; the kernel orders them by the services each uses. */
export const firstPartyPlugins: AnyPlugin[] = [
  events, sessions, providerShell, providerClaudeCode, providerCodex, providerTerminalAgents,
  workflows, audit, policies, analytics, secrets, auth, notifications, worktrees, workspaces, hosts, createDashboardPlugin(DASHBOARD_DIR),
];

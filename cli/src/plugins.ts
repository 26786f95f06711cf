import type { AnyPlugin } from '@codepiper/sdk';
import events from '@codepiper/plugin-events';
import providerShell from '@codepiper/plugin-provider-shell';
import sessions from '@codepiper/plugin-sessions';

/** What `codepiper daemon` loads; the kernel orders them by their dependencies. */
export const firstPartyPlugins: AnyPlugin[] = [events, sessions, providerShell];

import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { takeFile, writePrivateFiles } from '@codepiper/sessions-contract/agent-hooks';
import type { DaemonPaths } from '@codepiper/sdk';
import type { ProgramPlace } from '@codepiper/sessions-contract';

/** This machine as a place programs run; the sessions plugin, which hands out its session directories, removes them. */
export interface LocalPlace extends ProgramPlace {
  /** Removes every plugin's `sessionDir` of a session that was removed. */
  removeSessionDirs(sessionId: string): Promise<void>;
}

/** This machine, as a provider prepares a program to run here: files in the plugins' own directories, read where they are. */
export function localPlace(paths: DaemonPaths, home: string): LocalPlace {
  const checked = (sessionId: string): string => {
    if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`unexpected session id ${JSON.stringify(sessionId)}`);
    return sessionId;
  };
  // Every plugin's directory is beside the sessions plugin's own.
  const pluginsDir = path.dirname(paths.pluginData('sessions'));
  return {
    host: null,
    home,
    agentSocket: paths.agentSocket,
    sessionDir: (plugin, sessionId) => path.join(paths.pluginData(plugin), checked(sessionId)),
    writeFiles: writePrivateFiles,
    take: takeFile,
    readable: (_sessionId, file) => Promise.resolve(file),
    async removeSessionDirs(sessionId) {
      const id = checked(sessionId);
      const plugins = await readdir(pluginsDir).catch(() => []);
      await Promise.all(plugins.map((plugin) => rm(path.join(pluginsDir, plugin, id), { recursive: true, force: true })));
    },
  };
}

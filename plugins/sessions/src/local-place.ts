import path from 'node:path';
import { takeFile, writePrivateFiles } from '@codepiper/sessions-contract/agent-hooks';
import type { DaemonPaths } from '@codepiper/sdk';
import type { ProgramPlace } from '@codepiper/sessions-contract';

/** This machine, as a provider prepares a program to run here: files in the plugins' own directories, read where they are. */
export function localPlace(paths: DaemonPaths, home: string): ProgramPlace {
  return {
    host: null,
    home,
    agentSocket: paths.agentSocket,
    sessionDir(plugin, sessionId) {
      if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`unexpected session id ${JSON.stringify(sessionId)}`);
      return path.join(paths.pluginData(plugin), sessionId);
    },
    writeFiles: writePrivateFiles,
    take: takeFile,
    readable: (_sessionId, file) => Promise.resolve(file),
  };
}

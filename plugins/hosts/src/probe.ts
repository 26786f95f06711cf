import { performance } from 'node:perf_hooks';
import { CodePiperError } from '@codepiper/sdk';
import type { HostProbe } from '@codepiper/hosts-contract';
import type { HostConnection } from './connection.js';
import { describeSshFailure } from './ssh.js';

/** The agent CLIs a host is looked at for. */
export const AGENT_PROGRAMS = ['claude', 'codex', 'gemini'] as const;

/** Run by `sh -s` on the host: one `name<TAB>version` line for tmux and each agent CLI, the version empty when it is not found. */
const PROBE_SCRIPT = `printf 'tmux\\t%s\\n' "$(tmux -V 2>/dev/null)"
for program in ${AGENT_PROGRAMS.join(' ')}; do
  version=
  if command -v "$program" >/dev/null 2>&1; then version=$("$program" --version 2>/dev/null | head -n 1); version=\${version:-found, version unknown}; fi
  printf '%s\\t%s\\n' "$program" "$version"
done
`;

/** The `name<TAB>version` lines as versions, null for what was not found. */
export function parseProbe(output: string): Record<string, string | null> {
  const found: Record<string, string | null> = {};
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) found[line.slice(0, tab)] = line.slice(tab + 1).trim() || null;
  }
  return found;
}

/** Reaches the host (its connection opened if it is down) and says what is there; an unreachable host is a probe too, with its error. */
export async function probeHost(connection: HostConnection): Promise<HostProbe> {
  const checkedAt = new Date().toISOString();
  try {
    await connection.open();
    const began = performance.now();
    const echo = await connection.run('true');
    const latencyMs = Math.round((performance.now() - began) * 10) / 10;
    if (echo.code !== 0) throw new CodePiperError('host_unreachable', describeSshFailure(connection.target, echo));
    const probe = await connection.run('sh -s', { input: PROBE_SCRIPT });
    const found = parseProbe(probe.stdout);
    return {
      reachable: true,
      error: null,
      latencyMs,
      tmux: found.tmux ?? null,
      agents: Object.fromEntries(AGENT_PROGRAMS.map((program) => [program, found[program] ?? null])),
      checkedAt,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { reachable: false, error: message, latencyMs: null, tmux: null, agents: {}, checkedAt };
  }
}

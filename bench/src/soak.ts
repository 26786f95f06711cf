import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { policyEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { writeStandInClaude } from '@codepiper/tests/agents/claude';
import { TestDaemon } from '@codepiper/tests/harness';
import { rssMegabytes } from './proc.js';
import { round } from './stats.js';

const CALLS = Number(process.env.BENCH_SOAK_CALLS ?? 10_000);
const READINGS = 10;

export interface SoakResult {
  /** Tool calls, each a PreToolUse (a policy decides it) and a PostToolUse with 2 KB of output: twice as many hooks. */
  toolCalls: number;
  hooksPerSecond: number;
  /** The daemon's RSS before the first call, then after each tenth of them. */
  daemonRssMB: number[];
  /** What the second half of the calls added: near 0 when nothing grows with use. */
  secondHalfGrowthMB: number;
}

/**
 * Memory over a long working day of one agent: a real daemon and `claude-code`
 * session (a stand-in program, no model server), its hooks posted as the
 * forwarder posts them, each tool call with a command of its own (nothing a
 * cache keyed by the text could answer twice), every decision audited and
 * every event stored.
 */
export async function soak(): Promise<SoakResult> {
  const scratch = mkdtempSync('/tmp/cpb-soak-');
  const daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: writeStandInClaude(scratch) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const session = await daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'claude-code', cwd: scratch, env: { CLAUDE_CONFIG_DIR: path.join(scratch, 'config') } },
    });
    await daemon.client.call(policyEndpoints.create, { body: { name: 'listing', action: 'allow', tool: 'Bash', args: { command: 'ls *' }, reason: 'bench' } });
    const curlConfig = readFileSync(path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.curl'), 'utf8');
    const authorization = /"Authorization: (Bearer [0-9a-f]+)"/.exec(curlConfig)?.[1];
    if (!authorization) throw new Error('no hook secret in the session’s curl config');
    const post = (body: object): Promise<string> =>
      new Promise((resolve, reject) => {
        const request = http.request(
          { socketPath: daemon.agentSocketPath, path: `/hooks/claude-code/${session.id}`, method: 'POST', agent, headers: { authorization, 'content-type': 'application/json' } },
          (response) => {
            let text = '';
            response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`hook answered ${response.statusCode}: ${text}`))));
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify(body));
      });

    const pid = daemon.process!.pid!;
    const rss = [round(rssMegabytes(pid), 1)];
    const started = performance.now();
    for (let i = 1; i <= CALLS; i++) {
      const call = { session_id: session.id, cwd: scratch, tool_name: 'Bash', tool_input: { command: `ls -la dir-${i} && ls sub-${i}`, description: `List ${i}` }, tool_use_id: `toolu_${i}` };
      const answer = await post({ ...call, hook_event_name: 'PreToolUse' });
      if (!answer.includes('"allow"')) throw new Error(`call ${i} was not allowed: ${answer}`);
      await post({ ...call, hook_event_name: 'PostToolUse', tool_response: { stdout: 'x'.repeat(2048), stderr: '' } });
      if (i % (CALLS / READINGS) === 0) rss.push(round(rssMegabytes(pid), 1));
    }
    const seconds = (performance.now() - started) / 1000;
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
    return {
      toolCalls: CALLS,
      hooksPerSecond: round((2 * CALLS) / seconds, 0),
      daemonRssMB: rss,
      secondHalfGrowthMB: round(rss.at(-1)! - rss[READINGS / 2]!, 1),
    };
  } finally {
    agent.destroy();
    await daemon.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { policyEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { generatedPolicies } from './policy-decision.js';
import { writeStandInClaude } from '@codepiper/tests/agents/claude';
import { TestDaemon } from '@codepiper/tests/harness';
import { rssMegabytes } from './proc.js';
import { distribution, round, type Distribution } from './stats.js';

const SAMPLES = 300;
const WARMUP = 20;

export interface HookRoundtripResult {
  /** Running the session's forwarder (sh + curl over the Unix socket) with a PreToolUse payload, as Claude Code runs it; no policies. */
  preToolUse: Distribution;
  /** The same with 1,000 policies stored, one of which allows the call. */
  preToolUseWith1000Policies: Distribution;
  /** What the forwarder printed with the policies (the daemon's decision, in Claude's output contract). */
  reply: string;
  /** The daemon's RSS after these 640 Bash decisions (each parses the command with tree-sitter's WebAssembly). */
  daemonRssMB: number;
  /** The same request by curl alone, started as the forwarder starts it, with 1,000 policies: the floor any curl-based hook pays. */
  curlAlone: Distribution;
  /** The forwarder's p50 (with the policies) over curl alone's. */
  forwarderVsCurl: number;
}

const POLICIES = 1000;

/**
 * A real daemon with a real `claude-code` session (the program is a stand-in
 * that just waits, so no model server is needed); the session's own hook
 * forwarder is run once per sample, like Claude Code runs a hook.
 */
export async function hookRoundtrip(): Promise<HookRoundtripResult> {
  const scratch = mkdtempSync('/tmp/cpb-hook-');
  const fakeClaude = writeStandInClaude(scratch);
  const daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: fakeClaude });
  try {
    const session = await daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'claude-code', cwd: scratch, env: { CLAUDE_CONFIG_DIR: path.join(scratch, 'config') } },
    });
    const forwarder = path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.sh');
    const payload = JSON.stringify({
      session_id: session.id,
      transcript_path: String(session.metadata.transcriptPath),
      cwd: scratch,
      permission_mode: 'default',
      hook_event_name: 'PreToolUse',
      tool_name: 'Bash',
      tool_input: { command: 'ls -la', description: 'List files' },
      tool_use_id: 'toolu_bench',
    });
    const payloadFile = path.join(scratch, 'payload.json');
    writeFileSync(payloadFile, payload);
    const hookDir = path.dirname(forwarder);
    const curl = ['-s', '--fail', '--unix-socket', daemon.agentSocketPath, '-K', path.join(hookDir, 'hook.curl'), '--data-binary', `@${payloadFile}`];
    const measure = (command = forwarder, args: string[] = []): { samples: Distribution; reply: string } => {
      const samples: number[] = [];
      let reply = '';
      for (let i = 0; i < WARMUP + SAMPLES; i++) {
        const t0 = performance.now();
        const run = spawnSync(command, args, { input: payload, encoding: 'utf8' });
        const ms = performance.now() - t0;
        if (run.status !== 0) throw new Error(`${command} failed (${run.status}): ${run.stderr}`);
        reply = run.stdout;
        if (i >= WARMUP) samples.push(ms);
      }
      return { samples: distribution(samples), reply };
    };
    const baseline = measure();
    for (const policy of generatedPolicies(POLICIES - 1)) {
      const { id: _id, session: _session, set: _set, enabled: _enabled, rule: _rule, args, ...rest } = policy;
      await daemon.client.call(policyEndpoints.create, { body: { ...rest, args: args ?? undefined } });
    }
    await daemon.client.call(policyEndpoints.create, { body: { name: 'listing is fine', action: 'allow', tool: 'Bash', args: { command: 'ls *' }, reason: 'bench' } });
    const withPolicies = measure();
    const daemonRssMB = round(rssMegabytes(daemon.process!.pid!), 1);
    const curlAlone = measure('curl', curl);
    if (curlAlone.reply !== withPolicies.reply) throw new Error(`curl alone got another answer: ${curlAlone.reply}`);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
    return {
      preToolUse: baseline.samples,
      preToolUseWith1000Policies: withPolicies.samples,
      reply: withPolicies.reply,
      daemonRssMB,
      curlAlone: curlAlone.samples,
      forwarderVsCurl: round(withPolicies.samples.p50 / curlAlone.samples.p50),
    };
  } finally {
    await daemon.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
}

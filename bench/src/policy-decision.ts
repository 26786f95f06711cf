import { loadBashGrammar, PolicyEngine, type PolicyLike } from '@codepiper/plugin-policies';
import { distribution, type Distribution } from './stats.js';

const POLICIES = 1000;
const SAMPLES = 20_000;

/** A realistic mix: Bash prefixes, file globs, MCP tools, some session-scoped, all priorities. */
export function generatedPolicies(count: number): PolicyLike[] {
  const tools = ['Bash', 'Read', 'Write', 'Edit', 'WebFetch', 'mcp__github__*'];
  return Array.from({ length: count }, (_, i) => {
    const tool = tools[i % tools.length]!;
    const args: Record<string, string> = tool === 'Bash' ? { command: `tool${i} *` } : tool === 'WebFetch' ? { url: `https://host${i}.example/*` } : { file_path: `/srv/project${i}/**` };
    return {
      id: `p${i}`,
      name: `policy ${i}`,
      action: (['allow', 'deny', 'ask'] as const)[i % 3]!,
      tool,
      args,
      rule: null,
      priority: i % 7,
      session: i % 10 === 0 ? `session-${i}` : null,
      enabled: true,
      reason: `generated ${i}`,
    };
  });
}

const CALLS = [
  { tool: 'Bash', input: { command: 'ls -la && git status | grep modified; tool500 --flag' } },
  { tool: 'Bash', input: { command: 'npm test 2>&1 | tail -20' } },
  { tool: 'Bash', input: { command: "git commit -m \"$(cat <<'EOF'\nFix the parser\n\nIt handles heredocs now.\nEOF\n)\"" } },
  { tool: 'Bash', input: { command: 'sudo -u root find . -name "*.log" -mtime +7 -exec rm {} \\;' } },
  { tool: 'Bash', input: { command: "bash -c 'for f in src/*.ts; do wc -l \"$f\"; done' | sort -n" } },
  { tool: 'Read', input: { file_path: '/srv/project499/src/index.ts' } },
  { tool: 'WebFetch', input: { url: 'https://nowhere.example/page' } },
  { tool: 'mcp__github__create_issue', input: { title: 'x' } },
];

export interface PolicyDecisionResult {
  policies: number;
  decision: Distribution;
}

/** The engine the policies plugin runs inside the daemon, deciding calls against 1,000 policies (shell lines parsed with the bash grammar each time). */
export async function policyDecision(): Promise<PolicyDecisionResult> {
  await loadBashGrammar();
  const engine = new PolicyEngine(generatedPolicies(POLICIES));
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const call = CALLS[i % CALLS.length]!;
    const t0 = performance.now();
    engine.decide({ ...call, session: 'session-10' });
    samples.push(performance.now() - t0);
  }
  return { policies: POLICIES, decision: distribution(samples.slice(1000)) };
}

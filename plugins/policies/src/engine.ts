/**
 * The matching engine: pure, synchronous, no I/O.
 *
 * A policy matches a tool call when its tool (exact name or glob, `mcp__*`)
 * matches and every field of its `args` matches the call's input field of that
 * name by glob; a field the call lacks (or that is not text) does not match.
 * A `rule` (`Bash(git push:*)`) is the alternative to tool + args.
 *
 * A shell command (Bash `command`, terminal_input `text`) is parsed into the
 * commands it runs (`shellCommands`); each command is decided on its own by
 * the first policy that matches it, in order: higher priority first, then
 * deny, ask, allow, then the oldest. A command nothing matches takes the
 * default action. A command that cannot be known before the line runs is
 * never allowed: the first deny or ask policy that matches its text decides,
 * else the default. The whole call gets the strictest of its commands'
 * decisions: deny, then ask, then allow, so one denied command denies the
 * whole, and an allow holds only when every command is allowed.
 *
 * The built-in control-plane guard (control-plane.ts), when enabled, comes
 * after: a call it says touches the daemon's control plane is asked about
 * unless the policies denied it.
 */
import { CONTROL_PLANE_GUARD, CONTROL_PLANE_RULE, type ControlPlaneGuard } from './control-plane.js';
import { globPrefix, globToRegExp } from './glob.js';
import { parseRule, PolicyError, type PartMatcher } from './rule.js';
import { shellCommands, type ShellCommand } from './shell-commands.js';

export { PolicyError } from './rule.js';

export const ACTIONS = ['allow', 'deny', 'ask'] as const;
export type PolicyAction = (typeof ACTIONS)[number];

/** What the engine needs of a stored policy. */
export interface PolicyLike {
  id: string;
  name: string;
  action: PolicyAction;
  tool: string;
  args: Record<string, string> | null;
  rule: string | null;
  priority: number;
  session: string | null;
  /** The policy set it belongs to; it applies only to calls of sessions the set is attached to. */
  set?: string | null;
  enabled: boolean;
  reason: string;
  /** Built into CodePiper: matched by its own logic, not by tool and args. */
  builtin?: boolean;
}

/** The fields of a call whose text is a shell command line, by tool. */
export const SHELL_FIELDS: Readonly<Record<string, string>> = { Bash: 'command', terminal_input: 'text' };

export interface ToolCall {
  tool: string;
  input: unknown;
  session?: string | null;
  /** The policy sets attached to the session: their policies apply too. */
  sets?: readonly string[];
  /** The session's directory, for relative paths (the control-plane guard). */
  cwd?: string | null;
}

export interface PartDecision {
  command: string;
  decision: PolicyAction;
  policy: string | null;
}

export interface Decision {
  decision: PolicyAction;
  reason: string;
  /** The policy that decided; null when the default did. */
  policy: { id: string; name: string } | null;
  /** The rule that decided, as written (`Bash(git push:*)`, `tool=Bash args={"command":"rm *"}`), or `default`. */
  rule: string;
  /** For shell commands: how each command in it was decided. */
  parts: PartDecision[];
}

interface Check {
  names: readonly string[];
  match: PartMatcher;
}

interface Compiled {
  policy: PolicyLike;
  tool: RegExp;
  checks: Check[];
  order: number;
}

const RANK: Record<PolicyAction, number> = { deny: 0, ask: 1, allow: 2 };

export const isAction = (value: unknown): value is PolicyAction => typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);

/** The rule as a person reads it. */
export function describeRule(policy: Pick<PolicyLike, 'tool' | 'args' | 'rule'>): string {
  if (policy.rule) return policy.rule;
  return policy.args && Object.keys(policy.args).length > 0 ? `tool=${policy.tool} args=${JSON.stringify(policy.args)}` : `tool=${policy.tool}`;
}

/** Checks a policy's matching fields; throws `PolicyError` with a clear message. Returns tool and args as stored. */
export function validateMatch(spec: { tool?: unknown; args?: unknown; rule?: unknown }): { tool: string; args: Record<string, string> | null; rule: string | null } {
  if (spec.rule !== undefined && spec.rule !== null) {
    if (typeof spec.rule !== 'string') throw new PolicyError('rule must be a string like Bash(git push:*)');
    if (spec.tool !== undefined && spec.tool !== null) throw new PolicyError('give either a rule or a tool (with args), not both');
    if (spec.args !== undefined && spec.args !== null) throw new PolicyError('give either a rule or args, not both');
    const parsed = parseRule(spec.rule);
    return { tool: parsed.tool, args: null, rule: spec.rule.trim() };
  }
  if (typeof spec.tool !== 'string' || spec.tool.trim() === '') throw new PolicyError('a policy needs a tool (exact name or glob like mcp__*) or a rule like Bash(git push:*)');
  let args: Record<string, string> | null = null;
  if (spec.args !== undefined && spec.args !== null) {
    if (typeof spec.args !== 'object' || Array.isArray(spec.args)) throw new PolicyError('args must be an object of field → glob, like {"command":"rm *"}');
    args = {};
    for (const [field, glob] of Object.entries(spec.args as Record<string, unknown>)) {
      if (typeof glob !== 'string') throw new PolicyError(`args.${field} must be a string glob, got ${glob === null ? 'null' : Array.isArray(glob) ? 'an array' : typeof glob} ${JSON.stringify(glob)}`);
      if (field === '') throw new PolicyError('args field names must not be empty');
      args[field] = glob;
    }
  }
  return { tool: spec.tool.trim(), args, rule: null };
}

function compile(policy: PolicyLike, order: number): Compiled {
  if (policy.rule) {
    const parsed = parseRule(policy.rule);
    return { policy, order, tool: globToRegExp(parsed.tool), checks: parsed.field ? [{ names: parsed.field.names, match: parsed.field.match }] : [] };
  }
  const checks = Object.entries(policy.args ?? {}).map(([field, glob]) => {
    const re = globToRegExp(glob);
    const prefix = globPrefix(glob);
    return { names: [field], match: (value: string) => value.startsWith(prefix) && re.test(value) };
  });
  return { policy, order, tool: globToRegExp(policy.tool), checks };
}

const fieldText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;

/** A set of policies compiled once; `decide` is then cheap. */
export class PolicyEngine {
  private readonly compiled: Compiled[];
  /** Tool name, session and its sets → the policies that apply, in order (the policies never change: a new set is a new engine). */
  private readonly candidates = new Map<string, Compiled[]>();
  /** The control-plane guard's policy, when the guard is given and its policy enabled. */
  private readonly guardPolicy: PolicyLike | undefined;

  constructor(
    policies: readonly PolicyLike[],
    readonly defaultAction: 'ask' | 'deny' = 'ask',
    private readonly guard?: ControlPlaneGuard,
  ) {
    this.compiled = policies
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => p.enabled && !p.builtin)
      .map(({ p, i }) => compile(p, i))
      .sort((a, b) => b.policy.priority - a.policy.priority || RANK[a.policy.action] - RANK[b.policy.action] || a.order - b.order);
    this.guardPolicy = guard ? policies.find((p) => p.builtin && p.enabled && p.name === CONTROL_PLANE_GUARD) : undefined;
  }

  decide(call: ToolCall): Decision {
    const input = typeof call.input === 'object' && call.input !== null ? (call.input as Record<string, unknown>) : {};
    const shellField = SHELL_FIELDS[call.tool];
    const shellText = shellField === undefined ? undefined : fieldText(input[shellField]);
    const commands = shellText === undefined ? [] : shellCommands(shellText);
    const decision = this.byPolicies(call, input, shellField, shellText, commands);
    // Typed text is not a tool call of the agent's: the guard is about what agents do.
    if (decision.decision === 'deny' || !this.guard || !this.guardPolicy || call.tool === 'terminal_input') return decision;
    const touch = this.guard.inspect(call, shellField === undefined ? undefined : { field: shellField, commands });
    if (!touch) return decision;
    const guard = this.guardPolicy;
    return {
      decision: 'ask',
      reason: `${touch.what}; calls that touch the daemon's control plane need a person's approval (${guard.name})`,
      policy: { id: guard.id, name: guard.name },
      rule: CONTROL_PLANE_RULE,
      parts: decision.parts.map((part, i) => (touch.parts.includes(i) && part.decision !== 'deny' ? { ...part, decision: 'ask', policy: guard.name } : part)),
    };
  }

  /** What the user's policies (and the default) decide. */
  private byPolicies(call: ToolCall, input: Record<string, unknown>, shellField: string | undefined, shellText: string | undefined, commands: ShellCommand[]): Decision {
    const parts: (ShellCommand | undefined)[] = shellText === undefined ? [undefined] : commands.length > 0 ? commands : [{ text: shellText.trim() }];
    const sets = call.sets ?? [];
    const key = `${call.tool}\0${call.session ?? ''}\0${sets.join('\0')}`;
    let candidates = this.candidates.get(key);
    if (!candidates) {
      if (this.candidates.size >= 1000) this.candidates.clear();
      candidates = this.compiled.filter(
        (c) => c.tool.test(call.tool) && (c.policy.session === null || c.policy.session === call.session) && (c.policy.set == null || sets.includes(c.policy.set)),
      );
      this.candidates.set(key, candidates);
    }

    const matches = (c: Compiled, part: ShellCommand | undefined): boolean =>
      c.checks.every((check) => {
        for (const name of check.names) {
          const value = name === shellField && part !== undefined ? part.text : fieldText(input[name]);
          if (value !== undefined) return check.match(value);
        }
        return false;
      });

    // What cannot be known is never allowed: only a deny or an ask can decide it.
    const decided = parts.map((part) => ({ part, by: candidates.find((c) => (part?.unknown === undefined || c.policy.action !== 'allow') && matches(c, part)) }));
    // The strictest part decides; at the same strictness an explicit policy is named first, then what cannot be known.
    const strictness = (d: (typeof decided)[number]): number => (d.by ? RANK[d.by.policy.action] * 3 : RANK[this.defaultAction] * 3 + (d.part?.unknown === undefined ? 2 : 1));
    let worst = decided[0] as (typeof decided)[number];
    for (const d of decided) if (strictness(d) < strictness(worst)) worst = d;

    const partsOut: PartDecision[] =
      shellText === undefined ? [] : decided.map((d) => ({ command: d.part?.text ?? '', decision: d.by?.policy.action ?? this.defaultAction, policy: d.by?.policy.name ?? null }));
    const by = worst.by;
    if (!by) {
      const unknown = worst.part?.unknown;
      const what = unknown !== undefined ? `${unknown}, so no policy can allow it` : worst.part !== undefined && parts.length > 1 ? `no policy matched "${worst.part.text}"` : 'no policy matched';
      return { decision: this.defaultAction, reason: `${what}; the default action is ${this.defaultAction}`, policy: null, rule: 'default', parts: partsOut };
    }
    const p = by.policy;
    return {
      decision: p.action,
      reason: p.reason || `policy ${p.name}: ${p.action} ${describeRule(p)}`,
      policy: { id: p.id, name: p.name },
      rule: describeRule(p),
      parts: partsOut,
    };
  }
}

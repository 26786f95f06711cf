import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CodePiperError, badRequest, notFound, resolveRef, type Queryable, type Store, YamlError, YamlSource } from '@codepiper/sdk';
import { PolicyInputSchema, type Policy, type PolicyBypass, type PolicyDecision, type PolicyInput, type PolicyUpdate } from '@codepiper/policies-contract';
import type { AuditEntry, AuditLog } from '@codepiper/audit-contract';
import type { SessionGovernance } from '@codepiper/sessions-contract';
import { stringify as stringifyYaml } from 'yaml';
import { loadBashGrammar } from './bash-grammar.js';
import { CONTROL_PLANE_GUARD, CONTROL_PLANE_REASON, CONTROL_PLANE_RULE, type ControlPlaneGuard } from './control-plane.js';
import { PolicyEngine, PolicyError, validateMatch, type Decision, type PolicyAction } from './engine.js';

interface PolicyRow {
  id: string;
  seq: number;
  name: string;
  action: PolicyAction;
  tool: string;
  args: string | null;
  rule: string | null;
  priority: number;
  session_id: string | null;
  set_name: string | null;
  enabled: number;
  reason: string;
  created_at: string;
  updated_at: string;
  /** The kind of a built-in policy (`control-plane-guard`); null for the user's. */
  builtin: string | null;
}

const toPolicy = (row: PolicyRow): Policy => ({
  id: row.id,
  name: row.name,
  action: row.action,
  tool: row.tool,
  args: row.args === null ? null : (JSON.parse(row.args) as Record<string, string>),
  rule: row.rule,
  priority: row.priority,
  session: row.session_id,
  set: row.set_name,
  enabled: row.enabled === 1,
  reason: row.reason,
  builtin: row.builtin !== null,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** The policies CodePiper has built in: by kind, their stored row. */
const BUILTINS = [{ kind: 'control-plane-guard', name: CONTROL_PLANE_GUARD, action: 'ask' as const, tool: '*', reason: CONTROL_PLANE_REASON }];
const BUILTIN_PREFIX = 'builtin:';

const builtinRefused = (p: Policy, what: string): CodePiperError =>
  new CodePiperError('builtin_policy', `${p.name} is built in: it cannot be ${what}; \`codepiper policy disable ${p.name}\` turns it off`);

/** A policy set that does not parse or validate is the client's error (400), its message saying where. */
const asBadRequest = (error: unknown): unknown => (error instanceof YamlError ? badRequest(error.message) : error);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (error: unknown): never => {
  if (error instanceof PolicyError) throw new CodePiperError('invalid_policy', error.message);
  throw error;
};

/** The rule a bypassed session's calls are allowed by. */
export const BYPASS_RULE = 'bypass: the session runs without policies (start --dangerous)';

/** A bypassed session's decision: allowed, but for what the built-in control-plane guard asks (an agent never loosens its own leash). */
function bypassing(decision: Decision): Decision {
  if (decision.rule === CONTROL_PLANE_RULE) return decision;
  return {
    decision: 'allow',
    reason: `the session runs without policies (start --dangerous); they would have said ${decision.decision}: ${decision.reason}`,
    policy: null,
    rule: BYPASS_RULE,
    parts: decision.parts.map((part) => ({ ...part, decision: 'allow', policy: null })),
  };
}

export interface DecideRequest {
  tool: string;
  input: unknown;
  sessionId: string | null;
  /** What asked, for the audit trail. */
  source: string;
  /** The session's directory, for relative paths. */
  cwd?: string | null;
}

export interface PolicyServiceDeps {
  store: Store;
  /** Where every decision is appended. */
  audit: AuditLog;
  defaultAction: 'ask' | 'deny';
  /** Full id of a session given by id or prefix; throws when none matches. */
  resolveSession(idOrPrefix: string): Promise<string>;
  /** Called after each recorded decision (for the event log); must not throw. */
  recorded?(entry: AuditEntry): void;
  /** The built-in control-plane guard's matching; without it the guard's policy decides nothing. */
  guard?: ControlPlaneGuard;
  /** A session's directory, for `test` with a session. */
  sessionCwd?(id: string): Promise<string | undefined>;
}

/** Policies in SQLite and the compiled engine in memory (rebuilt on every change); decisions go to the audit trail. */
export class PolicyService {
  private policies: Policy[] = [];
  private engine: PolicyEngine;
  private seq = 0;
  /** The default action set by `policy default`, over config.yaml's. */
  private setDefault: 'ask' | 'deny' | undefined;
  /** The policy sets attached to each session, by id. */
  private readonly sessionSets = new Map<string, string[]>();
  /** Sessions running without policies (`start --dangerous`), by id. */
  private readonly bypasses = new Map<string, { since: string; by: string }>();

  constructor(private readonly deps: PolicyServiceDeps) {
    this.engine = new PolicyEngine([], deps.defaultAction);
  }

  async load(): Promise<void> {
    let rows = await this.deps.store.all<PolicyRow>('SELECT * FROM policies ORDER BY seq');
    const missing = BUILTINS.filter((b) => !rows.some((r) => r.builtin === b.kind));
    if (missing.length > 0) {
      const now = new Date().toISOString();
      for (const b of missing) {
        await this.deps.store.run(
          `INSERT INTO policies (id, seq, name, action, tool, args, rule, priority, session_id, enabled, reason, created_at, updated_at, builtin)
           VALUES (?, 0, ?, ?, ?, NULL, NULL, 0, NULL, 1, ?, ?, ?, ?)`,
          [randomUUID(), b.name, b.action, b.tool, b.reason, now, now, b.kind],
        );
      }
      rows = await this.deps.store.all<PolicyRow>('SELECT * FROM policies ORDER BY seq');
    }
    this.seq = rows.reduce((max, r) => Math.max(max, r.seq), 0);
    const setting = await this.deps.store.get<{ value: string }>("SELECT value FROM policy_settings WHERE key = 'default_action'");
    this.setDefault = setting?.value === 'ask' || setting?.value === 'deny' ? setting.value : undefined;
    this.sessionSets.clear();
    for (const row of await this.deps.store.all<{ session_id: string; set_name: string }>('SELECT * FROM policy_session_sets ORDER BY set_name')) {
      this.sessionSets.set(row.session_id, [...(this.sessionSets.get(row.session_id) ?? []), row.set_name]);
    }
    this.bypasses.clear();
    for (const row of await this.deps.store.all<{ session_id: string; since: string; by: string }>('SELECT * FROM policy_bypasses')) this.bypasses.set(row.session_id, { since: row.since, by: row.by });
    this.rebuild(rows.map(toPolicy));
  }

  private rebuild(policies: Policy[]): void {
    this.engine = new PolicyEngine(policies, this.defaultAction().action, this.deps.guard);
    this.policies = policies;
  }

  /** What happens to a call no policy matches, and who said so. */
  defaultAction(): { action: 'ask' | 'deny'; source: 'set' | 'config' } {
    return this.setDefault ? { action: this.setDefault, source: 'set' } : { action: this.deps.defaultAction, source: 'config' };
  }

  async setDefaultAction(action: 'ask' | 'deny', actor: string): Promise<{ action: 'ask' | 'deny'; source: 'set' | 'config' }> {
    const before = this.defaultAction().action;
    await this.deps.store.run("INSERT INTO policy_settings (key, value) VALUES ('default_action', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [action]);
    this.setDefault = action;
    this.rebuild(this.policies);
    await this.deps.audit.record({ action: 'policies.default', outcome: 'allow', reason: `default action ${before} → ${action}`, actor, details: { from: before, to: action } }, 'policies');
    return this.defaultAction();
  }

  /** The policy sets attached to a session. */
  setsOf(sessionId: string): string[] {
    return this.sessionSets.get(sessionId) ?? [];
  }

  /** Refuses a set no policy belongs to (a typo would attach nothing). */
  checkSets(sets: readonly string[]): void {
    const unknown = sets.find((set) => !this.policies.some((p) => p.set === set));
    if (unknown !== undefined) throw new CodePiperError('unknown_policy_set', `no policy is in a set named "${unknown}" (create them with policy create --set ${unknown}, or policy import FILE --set ${unknown})`);
  }

  /** Attaches policy sets to a session by its id, replacing its list. */
  private async attachSets(sessionId: string, sets: readonly string[]): Promise<void> {
    this.checkSets(sets);
    await this.deps.store.transaction(async (tx) => {
      await tx.run('DELETE FROM policy_session_sets WHERE session_id = ?', [sessionId]);
      for (const set of sets) await tx.run('INSERT INTO policy_session_sets (session_id, set_name) VALUES (?, ?)', [sessionId, set]);
    });
    if (sets.length === 0) this.sessionSets.delete(sessionId);
    else this.sessionSets.set(sessionId, [...sets].sort());
  }

  /** `attachSets` for a session named by id or prefix, asked over the API: audited. */
  async attachSetsTo(sessionRef: string, sets: readonly string[], actor: string): Promise<{ sessionId: string; sets: string[] }> {
    const sessionId = await this.deps.resolveSession(sessionRef);
    const before = this.setsOf(sessionId);
    await this.attachSets(sessionId, sets);
    const reason = `policy sets of session ${sessionId}: ${before.join(', ') || 'none'} → ${this.setsOf(sessionId).join(', ') || 'none'}`;
    await this.deps.audit.record({ action: 'policies.sets', outcome: 'allow', reason, actor, details: { session: sessionId, sets } }, 'policies');
    return { sessionId, sets: this.setsOf(sessionId) };
  }

  /** Whether a session runs without policies, since when and by whose word. */
  bypassOf(sessionId: string): PolicyBypass {
    const bypass = this.bypasses.get(sessionId);
    return { sessionId, bypassed: bypass !== undefined, since: bypass?.since ?? null, by: bypass?.by ?? null };
  }

  listBypasses(): PolicyBypass[] {
    return [...this.bypasses.keys()].map((id) => this.bypassOf(id));
  }

  /** Lets every call of the session through (each still recorded), or (`on` false) puts it back under the policies; audited when it `changed`. */
  async setBypass(sessionRef: string, on: boolean, actor: string): Promise<{ bypass: PolicyBypass; changed: boolean }> {
    const sessionId = await this.deps.resolveSession(sessionRef);
    const changed = await this.bypass(sessionId, on, actor, on ? `session ${sessionId} runs without policies` : `session ${sessionId} is under the policies again`);
    return { bypass: this.bypassOf(sessionId), changed };
  }

  /**
   * Puts a session being started (it has no record yet) under what its start
   * asked: its policy sets, or no policies at all. Audited; the sets are
   * checked before anything is written.
   */
  async govern(governance: SessionGovernance): Promise<{ bypassed: boolean }> {
    const { sessionId, policySets, withoutPolicies, by } = governance;
    this.checkSets(policySets);
    if (policySets.length > 0) {
      await this.attachSets(sessionId, policySets);
      await this.deps.audit.record({ action: 'policies.sets', outcome: 'allow', reason: `session ${sessionId} starts under the policy sets ${policySets.join(', ')}`, actor: by, details: { session: sessionId, sets: policySets } }, 'policies');
    }
    const bypassed = withoutPolicies && (await this.bypass(sessionId, true, by, `session ${sessionId} starts without policies (start --dangerous)`));
    return { bypassed };
  }

  /** A session that never started (`sessionAbandoned`): its sets and bypass go, the bypass's end audited as its start was. */
  async abandoned(sessionId: string): Promise<void> {
    if (this.sessionSets.has(sessionId)) await this.attachSets(sessionId, []);
    await this.bypass(sessionId, false, 'daemon', `session ${sessionId} did not start: its bypass ends`);
  }

  /** Records a change of a session's bypass and audits it with `reason`; false when it held already. */
  private async bypass(sessionId: string, on: boolean, actor: string, reason: string): Promise<boolean> {
    if (on === this.bypasses.has(sessionId)) return false;
    if (on) {
      const since = new Date().toISOString();
      await this.deps.store.run('INSERT INTO policy_bypasses (session_id, since, by) VALUES (?, ?, ?)', [sessionId, since, actor]);
      this.bypasses.set(sessionId, { since, by: actor });
    } else {
      await this.deps.store.run('DELETE FROM policy_bypasses WHERE session_id = ?', [sessionId]);
      this.bypasses.delete(sessionId);
    }
    await this.deps.audit.record({ action: 'policies.bypass', outcome: on ? 'deny' : 'allow', reason, actor, details: { session: sessionId, bypassed: on } }, 'policies');
    return true;
  }

  private async reload(): Promise<void> {
    await this.load();
  }

  /** Built-in policies first, then the user's in the order the engine considers them. */
  list(session?: string): Policy[] {
    const order = { deny: 0, ask: 1, allow: 2 } as const;
    return this.policies
      .filter((p) => session === undefined || ((p.session === null || p.session === session) && (p.set === null || this.setsOf(session).includes(p.set))))
      .map((p, i) => ({ p, i }))
      .sort((a, b) => Number(b.p.builtin) - Number(a.p.builtin) || b.p.priority - a.p.priority || order[a.p.action] - order[b.p.action] || a.i - b.i)
      .map(({ p }) => p);
  }

  /** A policy by id, name, or unique id prefix. */
  get(ref: string): Promise<Policy> {
    return resolveRef(ref, {
      kind: 'policy',
      byIdPrefix: (prefix, limit) => this.policies.filter((p) => p.id.startsWith(prefix)).slice(0, limit),
      byName: (name, limit) => this.policies.filter((p) => p.name === name).slice(0, limit),
      id: (p) => p.id,
      name: (p) => p.name,
    });
  }

  /** A policy just stored or changed, by its id. */
  private stored(id: string): Policy {
    const policy = this.policies.find((p) => p.id === id);
    if (!policy) throw notFound(`policy "${id}"`);
    return policy;
  }

  /** Checks an input and turns it into a row's values; throws a clear 400 on bad input. */
  private async prepare(input: PolicyInput, id: string): Promise<Omit<Policy, 'createdAt' | 'updatedAt'>> {
    if (input.name?.startsWith(BUILTIN_PREFIX)) throw badRequest(`policy names starting with "${BUILTIN_PREFIX}" are kept for CodePiper's built-in policies`);
    const match = (() => {
      try {
        return validateMatch(input);
      } catch (error) {
        return invalid(error);
      }
    })();
    const session = input.session === undefined || input.session === null ? null : await this.deps.resolveSession(input.session);
    const label = match.rule ?? match.tool;
    return {
      id,
      name: input.name ?? `${input.action}-${label.replace(/[^A-Za-z0-9_.*:-]+/g, '-').slice(0, 60)}-${id.slice(0, 8)}`,
      action: input.action,
      ...match,
      priority: input.priority ?? 0,
      session,
      set: input.set ?? null,
      enabled: input.enabled ?? true,
      reason: input.reason ?? '',
      builtin: false,
    };
  }

  private async insert(db: Queryable, p: Omit<Policy, 'createdAt' | 'updatedAt'>, now: string): Promise<void> {
    if (this.policies.some((other) => other.name === p.name && other.id !== p.id)) throw new CodePiperError('policy_exists', `a policy named "${p.name}" already exists`);
    await this.insertRow(db, p, now);
  }

  private async insertRow(db: Queryable, p: Omit<Policy, 'createdAt' | 'updatedAt'>, now: string): Promise<void> {
    await db.run(
      `INSERT INTO policies (id, seq, name, action, tool, args, rule, priority, session_id, set_name, enabled, reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [p.id, ++this.seq, p.name, p.action, p.tool, p.args ? JSON.stringify(p.args) : null, p.rule, p.priority, p.session, p.set, p.enabled ? 1 : 0, p.reason, now, now],
    );
  }

  async create(input: PolicyInput): Promise<Policy> {
    const prepared = await this.prepare(input, randomUUID());
    try {
      await this.insert(this.deps.store, prepared, new Date().toISOString());
    } finally {
      await this.reload();
    }
    return this.stored(prepared.id);
  }

  async update(ref: string, patch: PolicyUpdate): Promise<Policy> {
    const current = await this.get(ref);
    if (current.builtin) throw builtinRefused(current, 'changed');
    const matchGiven = patch.rule !== undefined || patch.tool !== undefined || patch.args !== undefined;
    // A new rule replaces tool + args, and new tool/args replace a rule.
    const match = !matchGiven
      ? { tool: current.rule ? undefined : current.tool, args: current.args ?? undefined, rule: current.rule ?? undefined }
      : patch.rule
        ? { rule: patch.rule }
        : { tool: patch.tool ?? (current.rule ? undefined : current.tool), args: patch.args === null ? undefined : (patch.args ?? (current.rule ? undefined : (current.args ?? undefined))) };
    const session = patch.session === undefined ? (current.session ?? undefined) : (patch.session ?? undefined);
    const set = patch.set === undefined ? current.set : patch.set;
    const input: PolicyInput = {
      name: patch.name ?? current.name,
      action: patch.action ?? current.action,
      ...match,
      priority: patch.priority ?? current.priority,
      session,
      ...(set !== null && { set }),
      enabled: patch.enabled ?? current.enabled,
      reason: patch.reason ?? current.reason,
    };
    const p = await this.prepare(input, current.id);
    if (this.policies.some((other) => other.name === p.name && other.id !== p.id)) throw new CodePiperError('policy_exists', `a policy named "${p.name}" already exists`);
    await this.deps.store.run(
      `UPDATE policies SET name = ?, action = ?, tool = ?, args = ?, rule = ?, priority = ?, session_id = ?, set_name = ?, enabled = ?, reason = ?, updated_at = ? WHERE id = ?`,
      [p.name, p.action, p.tool, p.args ? JSON.stringify(p.args) : null, p.rule, p.priority, p.session, p.set, p.enabled ? 1 : 0, p.reason, new Date().toISOString(), p.id],
    );
    await this.reload();
    return this.stored(p.id);
  }

  async setEnabled(ref: string, enabled: boolean): Promise<Policy> {
    const current = await this.get(ref);
    await this.deps.store.run('UPDATE policies SET enabled = ?, updated_at = ? WHERE id = ?', [enabled ? 1 : 0, new Date().toISOString(), current.id]);
    await this.reload();
    return this.stored(current.id);
  }

  async remove(ref: string): Promise<void> {
    const current = await this.get(ref);
    if (current.builtin) throw builtinRefused(current, 'deleted');
    await this.deps.store.run('DELETE FROM policies WHERE id = ?', [current.id]);
    await this.reload();
  }

  /**
   * Parses a policy set (YAML or JSON): a list, or `{policies: [...]}`; all
   * are checked before any is stored, an error pointing at its line and
   * column in `name` (the file it came from).
   */
  /** Imports a policy set file; with `set`, every policy in it belongs to that policy set. */
  async importSet(text: string, name = 'policy set', set?: string): Promise<{ created: number; replaced: number; policies: Policy[] }> {
    let source: YamlSource;
    try {
      source = new YamlSource(text, name);
    } catch (error) {
      throw asBadRequest(error);
    }
    const doc = source.value();
    const listed = Array.isArray(doc) ? { list: doc as unknown[], at: [] } : isRecord(doc) && Array.isArray(doc.policies) ? { list: doc.policies as unknown[], at: ['policies'] } : undefined;
    if (!listed) throw badRequest(`${name}: a policy set is a list of policies, or an object with a "policies" list`);
    const prepared: Omit<Policy, 'createdAt' | 'updatedAt'>[] = [];
    const names = new Set<string>();
    for (const [i, entry] of listed.list.entries()) {
      const at = [...listed.at, i];
      let input: PolicyInput;
      try {
        input = { ...source.validate(PolicyInputSchema, entry, at), ...(set !== undefined && { set }) };
      } catch (error) {
        throw asBadRequest(error);
      }
      const where = `${name}: policy ${i + 1}${input.name === undefined ? '' : ` ("${input.name}")`}`;
      const existing = input.name === undefined ? undefined : this.policies.find((p) => p.name === input.name && !p.builtin);
      let p: Omit<Policy, 'createdAt' | 'updatedAt'>;
      try {
        p = await this.prepare(input, existing?.id ?? randomUUID());
      } catch (error) {
        throw error instanceof CodePiperError ? new CodePiperError(error.code, `${where}: ${error.message}`, error.details) : error;
      }
      if (names.has(p.name)) throw badRequest(`${where}: the name "${p.name}" appears twice in the set`);
      names.add(p.name);
      prepared.push(p);
    }
    let replaced = 0;
    const now = new Date().toISOString();
    try {
      await this.deps.store.transaction(async (tx) => {
        for (const p of prepared) {
          if (this.policies.some((other) => other.id === p.id)) {
            replaced++;
            await tx.run('DELETE FROM policies WHERE id = ?', [p.id]);
          }
          await this.insertRow(tx, p, now);
        }
      });
    } finally {
      await this.reload();
    }
    return { created: prepared.length - replaced, replaced, policies: prepared.map((p) => this.stored(p.id)) };
  }

  exportSet(): { yaml: string; policies: PolicyInput[] } {
    const policies = this.list().filter((p) => !p.builtin).map((p): PolicyInput => {
      const entry: PolicyInput = { name: p.name, action: p.action };
      if (p.rule) entry.rule = p.rule;
      else {
        entry.tool = p.tool;
        if (p.args) entry.args = p.args;
      }
      if (p.priority !== 0) entry.priority = p.priority;
      if (p.session) entry.session = p.session;
      if (p.set) entry.set = p.set;
      if (!p.enabled) entry.enabled = false;
      if (p.reason) entry.reason = p.reason;
      return entry;
    });
    return { yaml: stringifyYaml({ policies }), policies };
  }

  /** What the policies decide, without recording anything. */
  async test(tool: string, args: unknown, session: string | undefined): Promise<PolicyDecision> {
    const sessionId = session === undefined ? null : await this.deps.resolveSession(session);
    const cwd = sessionId === null ? undefined : await this.deps.sessionCwd?.(sessionId);
    return (await this.evaluate({ tool, input: args ?? {}, sessionId, cwd, source: 'test' })).decision;
  }

  /** Whether any enabled policy could apply to this tool in this session (a cheap pre-check). */
  concerns(tool: string, sessionId: string | null): boolean {
    const sets = sessionId === null ? [] : this.setsOf(sessionId);
    return this.policies.some(
      (p) => p.enabled && !p.builtin && (p.session === null || p.session === sessionId) && (p.set === null || sets.includes(p.set)) && (p.tool === tool || p.tool.includes('*') || p.tool.includes('?')),
    );
  }

  /** Decides without recording (for a caller that records once the answer is final). */
  async evaluate(request: DecideRequest): Promise<{ decision: Decision; durationMs: number }> {
    await loadBashGrammar();
    const started = performance.now();
    const sets = request.sessionId === null ? [] : this.setsOf(request.sessionId);
    const decided = this.engine.decide({ tool: request.tool, input: request.input, session: request.sessionId, sets, cwd: request.cwd });
    const decision = request.sessionId !== null && this.bypasses.has(request.sessionId) ? bypassing(decided) : decided;
    return { decision, durationMs: performance.now() - started };
  }

  /** Decides and appends the decision to the audit trail. */
  async decide(request: DecideRequest): Promise<Decision> {
    const { decision, durationMs } = await this.evaluate(request);
    await this.record(request, decision, { answeredBy: decision.rule === BYPASS_RULE ? 'bypass' : decision.policy ? 'policy' : 'default', durationMs });
    return decision;
  }

  /** Appends a decision to the audit trail; `answer` overrides the decision when a person answered. */
  async record(request: DecideRequest, decision: Decision, answer: { answeredBy: string; durationMs: number; decision?: PolicyAction; reason?: string }): Promise<void> {
    const entry = await this.deps.audit.append({
      sessionId: request.sessionId,
      tool: request.tool,
      input: request.input ?? null,
      decision: answer.decision ?? decision.decision,
      reason: answer.reason ?? decision.reason,
      policyId: decision.policy?.id ?? null,
      policyName: decision.policy?.name ?? 'default',
      rule: decision.rule,
      source: request.source,
      answeredBy: answer.answeredBy,
      durationMs: answer.durationMs,
    });
    this.deps.recorded?.(entry);
  }
}

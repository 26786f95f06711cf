import type { CAC } from 'cac';
import { approvalEndpoints, policyEndpoints, type Approval, type Policy, type PolicyDecision, type PolicyInput, type PolicyUpdate } from '@codepiper/policies-contract';
import { optionValue, optionValues, parseTime } from '../args.js';
import { withActions } from '../command-line.js';
import { connect } from '../client.js';
import { readUserFile } from '../files.js';
import { forSession, UsageError } from '../errors.js';
import { formatFields, formatTable, shortId } from '../format.js';
import { print, printJson, printResult } from '../output.js';

const ACTIONS = ['allow', 'deny', 'ask'] as const;
type Action = (typeof ACTIONS)[number];

export function parseAction(text: string, flag = '--action'): Action {
  const action = ACTIONS.find((a) => a === text);
  if (!action) throw new UsageError(`${flag} must be allow, deny or ask; got "${text}"`);
  return action;
}

/** `--args '{"command":"rm *"}'`: a JSON object whose values are string globs. */
export function parseArgsJson(text: string, flag = '--args'): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} is not valid JSON (${(error as Error).message}); expected an object like '{"command":"rm *"}'`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${flag} must be a JSON object like '{"command":"rm *"}'`);
  for (const [field, glob] of Object.entries(value)) {
    if (typeof glob !== 'string') throw new UsageError(`${flag}: the glob for "${field}" must be a string, got ${JSON.stringify(glob)}`);
  }
  return value as Record<string, string>;
}

/** `--args` for `policy test`: the tool input, any JSON object. */
export function parseToolInput(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--args is not valid JSON (${(error as Error).message}); expected the tool input, like '{"command":"ls"}'`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--args must be a JSON object (the tool input), like '{"command":"ls"}'`);
  return value as Record<string, unknown>;
}

export function parsePriority(text: string): number {
  if (!/^-?\d+$/.test(text) || Math.abs(Number(text)) > 1_000_000) throw new UsageError(`--priority expects a whole number (higher is considered first), got "${text}"`);
  return Number(text);
}

/** `--since`: an ISO time, a date, or an age like `30s`, `10m`, `2h`, `7d`. */
export const parseSince = (text: string, now: number = Date.now()): string => parseTime(text, '--since', now);

export interface PolicyOptions {
  action?: unknown;
  tool?: unknown;
  args?: unknown;
  rule?: unknown;
  name?: unknown;
  priority?: unknown;
  session?: unknown;
  set?: unknown;
  reason?: unknown;
  json?: boolean;
  jsonl?: boolean;
  since?: unknown;
  decision?: unknown;
}

/** The body of `policy create`, checked here so that bad input never reaches the daemon. */
export function policyInput(options: PolicyOptions): PolicyInput {
  const actionText = optionValue(options.action, '--action');
  if (actionText === undefined) throw new UsageError('missing --action (allow, deny or ask)');
  const tool = optionValue(options.tool, '--tool');
  const argsText = optionValue(options.args, '--args');
  const rule = optionValue(options.rule, '--rule');
  if (rule !== undefined && (tool !== undefined || argsText !== undefined)) throw new UsageError('give either --rule or --tool/--args, not both');
  if (rule === undefined && tool === undefined) throw new UsageError('missing --tool (a name or glob like "mcp__*") or --rule (like "Bash(git push:*)")');
  const priority = optionValue(options.priority, '--priority');
  const input: PolicyInput = { action: parseAction(actionText) };
  if (tool !== undefined) input.tool = tool;
  if (argsText !== undefined) input.args = parseArgsJson(argsText);
  if (rule !== undefined) input.rule = rule;
  const name = optionValue(options.name, '--name');
  if (name !== undefined) input.name = name;
  if (priority !== undefined) input.priority = parsePriority(priority);
  const session = optionValue(options.session, '--session');
  if (session !== undefined) input.session = session;
  const set = optionValue(options.set, '--set');
  if (set !== undefined) input.set = set;
  const reason = optionValue(options.reason, '--reason');
  if (reason !== undefined) input.reason = reason;
  return input;
}

/** The body of `policy update`: only what was given. */
export function policyUpdate(options: PolicyOptions): PolicyUpdate {
  const update: PolicyUpdate = {};
  const actionText = optionValue(options.action, '--action');
  if (actionText !== undefined) update.action = parseAction(actionText);
  const tool = optionValue(options.tool, '--tool');
  const argsText = optionValue(options.args, '--args');
  const rule = optionValue(options.rule, '--rule');
  if (rule !== undefined && (tool !== undefined || argsText !== undefined)) throw new UsageError('give either --rule or --tool/--args, not both');
  if (tool !== undefined) update.tool = tool;
  if (argsText !== undefined) update.args = parseArgsJson(argsText);
  if (rule !== undefined) update.rule = rule;
  const name = optionValue(options.name, '--name');
  if (name !== undefined) update.name = name;
  const priority = optionValue(options.priority, '--priority');
  if (priority !== undefined) update.priority = parsePriority(priority);
  const session = optionValue(options.session, '--session');
  if (session !== undefined) update.session = session === 'none' || session === '' ? null : session;
  const set = optionValue(options.set, '--set');
  if (set !== undefined) update.set = set === 'none' || set === '' ? null : set;
  const reason = optionValue(options.reason, '--reason');
  if (reason !== undefined) update.reason = reason;
  if (Object.keys(update).length === 0) throw new UsageError('nothing to update: give --action, --tool, --args, --rule, --name, --priority, --session, --set or --reason');
  return update;
}

/** What a built-in policy matches, in place of a rule (it has its own logic, see `policy show`). */
const BUILTIN_RULE = "(built-in) the daemon's home and socket, codepiper, its tmux server";

export const ruleText = (p: Pick<Policy, 'tool' | 'args' | 'rule'> & { builtin?: boolean }): string =>
  p.builtin ? BUILTIN_RULE : (p.rule ?? (p.args && Object.keys(p.args).length > 0 ? `${p.tool} ${JSON.stringify(p.args)}` : p.tool));

/** Which calls a policy is for: one session's, a policy set's sessions', or every session's (`-`). */
const scope = (p: Pick<Policy, 'session' | 'set'>): string => [p.session ? `session ${shortId(p.session)}` : '', p.set ? `set ${p.set}` : ''].filter(Boolean).join(', ') || '-';

export const policyRow = (p: Policy): string[] => [shortId(p.id), p.name, p.enabled ? p.action : `${p.action} (disabled)`, p.builtin ? '-' : String(p.priority), scope(p), ruleText(p), p.reason];

/** Printed on stderr when a built-in guard is turned off. */
export const builtinDisabledWarning = (p: Pick<Policy, 'name'>): string =>
  `codepiper: warning: ${p.name} is off: tool calls that touch the daemon's home or socket, run codepiper or drive its tmux server are now decided by your policies alone (an allow lets them run); \`codepiper policy enable ${p.name}\` turns it back on`;

export const policyFields = (p: Policy): string =>
  formatFields([
    ['id', p.id],
    ['name', p.name],
    ['action', p.action],
    ['enabled', p.enabled ? 'yes' : 'no'],
    ...(p.builtin
      ? ([
          ['built-in', 'yes: it can be disabled and enabled, not changed or deleted'],
          ['rule', BUILTIN_RULE],
          ['order', "after deny policies, before every other policy (an allow does not let such a call through; a deny still denies)"],
        ] as [string, string][])
      : ([
          ['rule', p.rule ?? '-'],
          ['tool', p.tool],
          ['args', p.args ? JSON.stringify(p.args) : '-'],
          ['priority', String(p.priority)],
        ] as [string, string][])),
    ['session', p.session ?? 'every session'],
    ...(p.set ? ([['set', `${p.set} (only for the sessions it is attached to)`]] as [string, string][]) : []),
    ['reason', p.reason || '-'],
    ['created', p.createdAt],
    ['updated', p.updatedAt],
  ]);

/** `deny` then `by policy no-rm (tool=Bash args=...)`, then each command of a shell line (a wrapper and what it runs are two). */
export function formatDecision(d: PolicyDecision): string {
  // The reason says why when the default decided for a command that cannot be known, which an allow may have matched.
  const lines = [`${d.decision}: ${d.reason}`, d.policy ? `rule: ${d.rule} (policy ${d.policy.name}, ${shortId(d.policy.id)})` : 'rule: default (no policy decided)'];
  if (d.parts.length > 1) for (const part of d.parts) lines.push(`  ${part.decision.padEnd(5)}  ${part.command.replace(/\n/g, '\\n')}${part.policy ? `  (${part.policy})` : '  (default)'}`);
  return lines.join('\n');
}

const needId = (action: string, id: string | undefined): string => {
  if (id === undefined) throw new UsageError(`policy ${action} needs a policy id or name`);
  return id;
};

async function policyCommand(action: string, id: string | undefined, options: PolicyOptions): Promise<number | undefined> {
  const client = connect();
  switch (action) {
    case 'create': {
      const body = policyInput(options);
      const created = await client.call(policyEndpoints.create, { body });
      printResult(created, options.json, (p) => `created policy ${p.name} (${shortId(p.id)}): ${p.action} ${ruleText(p)}`);
      return 0;
    }
    case 'list':
    case 'ls': {
      const session = optionValue(options.session, '--session');
      const result = await (session === undefined ? client.call(policyEndpoints.list, { query: {} }) : forSession(session, client.call(policyEndpoints.list, { query: { session } })));
      printResult(result, options.json, ({ policies }) =>
        policies.length === 0 ? 'no policies' : formatTable(['ID', 'NAME', 'ACTION', 'PRIORITY', 'FOR', 'RULE', 'REASON'], policies.map(policyRow)),
      );
      return 0;
    }
    case 'show': {
      const policy = await client.call(policyEndpoints.show, { params: { id: needId(action, id) } });
      printResult(policy, options.json, policyFields);
      return 0;
    }
    case 'update': {
      const body = policyUpdate(options);
      const policy = await client.call(policyEndpoints.update, { params: { id: needId(action, id) }, body });
      printResult(policy, options.json, (p) => `updated policy ${p.name} (${shortId(p.id)}): ${p.action} ${ruleText(p)}`);
      return 0;
    }
    case 'delete':
    case 'rm': {
      const ref = needId(action, id);
      await client.call(policyEndpoints.remove, { params: { id: ref } });
      if (options.json) printJson({ ok: true });
      else print(`deleted policy ${ref}`);
      return 0;
    }
    case 'enable':
    case 'disable': {
      const endpoint = action === 'enable' ? policyEndpoints.enable : policyEndpoints.disable;
      const policy = await client.call(endpoint, { params: { id: needId(action, id) } });
      printResult(policy, options.json, (p) => `${action}d policy ${p.name} (${shortId(p.id)})`);
      if (policy.builtin && !policy.enabled) process.stderr.write(`${builtinDisabledWarning(policy)}\n`);
      return 0;
    }
    case 'test': {
      const tool = optionValue(options.tool, '--tool');
      if (tool === undefined) throw new UsageError('policy test needs --tool (and usually --args with the tool input)');
      const argsText = optionValue(options.args, '--args');
      const session = optionValue(options.session, '--session');
      const body = { tool, ...(argsText === undefined ? {} : { args: parseToolInput(argsText) }), ...(session === undefined ? {} : { session }) };
      const call = client.call(policyEndpoints.test, { body });
      const decision = await (session === undefined ? call : forSession(session, call));
      printResult(decision, options.json, formatDecision);
      return 0;
    }
    case 'import': {
      if (id === undefined) throw new UsageError('policy import needs a FILE (YAML)');
      const set = optionValue(options.set, '--set');
      const result = await client.call(policyEndpoints.import, { body: { source: await readUserFile(id), name: id, ...(set !== undefined && { set }) } });
      printResult(result, options.json, (r) => `imported ${r.policies.length} ${r.policies.length === 1 ? 'policy' : 'policies'} from ${id} (${r.created} new, ${r.replaced} replaced)`);
      return 0;
    }
    case 'export': {
      if (id !== undefined) throw new UsageError('policy export prints YAML to stdout: redirect it to a file (codepiper policy export > policies.yaml)');
      const result = await client.call(policyEndpoints.export);
      if (options.json) printJson({ policies: result.policies });
      else process.stdout.write(result.yaml);
      return 0;
    }
    case 'default': {
      if (id !== undefined && id !== 'ask' && id !== 'deny') throw new UsageError(`policy default takes ask or deny, not "${id}"`);
      const result = id === undefined ? await client.call(policyEndpoints.defaultAction) : await client.call(policyEndpoints.setDefaultAction, { body: { action: id } });
      printResult(result, options.json, (r) => `default action: ${r.action} (${r.source === 'set' ? 'set with codepiper policy default' : 'from config.yaml'})`);
      return 0;
    }
    case 'sets': {
      const ref = needId(action, id);
      const given = optionValues(options.set, '--set');
      const sets = given.includes('none') ? [] : given;
      const result = await forSession(ref, given.length === 0 ? client.call(policyEndpoints.sessionSets, { params: { id: ref } }) : client.call(policyEndpoints.attachSets, { params: { id: ref }, body: { sets } }));
      printResult(result, options.json, (r) => `session ${shortId(r.sessionId)}: ${r.sets.length > 0 ? `policy sets ${r.sets.join(', ')}` : 'no policy sets'}`);
      return 0;
    }
    case 'bypass':
    case 'unbypass': {
      const ref = needId(action, id);
      const endpoint = action === 'bypass' ? policyEndpoints.bypass : policyEndpoints.endBypass;
      const result = await forSession(ref, client.call(endpoint, { params: { id: ref } }));
      printResult(result, options.json, (r) => (r.bypassed ? `session ${shortId(r.sessionId)} runs WITHOUT POLICIES: every call is allowed (and recorded)` : `session ${shortId(r.sessionId)} is under the policies`));
      return 0;
    }
    default:
      throw new UsageError(`unknown policy action "${action}"; use create, list, show, update, delete, enable, disable, test, import, export, default, sets, bypass or unbypass`);
  }
}

const approvalRow = (a: Approval, now: number): string[] => {
  const input = JSON.stringify(a.input);
  const waited = Math.max(0, Math.round((now - Date.parse(a.createdAt)) / 1000));
  const status = a.status === 'pending' ? `pending for ${waited}s` : `${a.status} by ${a.answeredBy ?? 'unknown'}`;
  return [shortId(a.id), shortId(a.sessionId), a.tool, input.length > 60 ? `${input.slice(0, 59)}…` : input, a.policyName, status];
};

export function registerPolicyCommands(cli: CAC): void {
  cli
    .command('approvals', 'Permission questions waiting for a person (a policy said ask)')
    .option('--all', 'Answered and expired ones too')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper approvals')
    .example('  $ codepiper approvals --all --json')
    .action(async (options: { all?: boolean; json?: boolean }) => {
      const result = await connect().call(approvalEndpoints.list, { query: { all: options.all ?? false } });
      const now = Date.now();
      printResult(result, options.json, ({ approvals }) =>
        approvals.length === 0 ? 'no pending approvals' : formatTable(['ID', 'SESSION', 'TOOL', 'INPUT', 'POLICY', 'STATUS'], approvals.map((a) => approvalRow(a, now))),
      );
    });

  cli
    .command('approve <id>', 'Allow a pending call; --remember also makes it a policy')
    .option('--remember', 'Create an allow policy for this exact call')
    .option('--json', 'Print the approval as JSON')
    .example('  $ codepiper approve 1f2e --remember')
    .action(async (id: string, options: { remember?: boolean; json?: boolean }) => {
      const approval = await connect().call(approvalEndpoints.approve, { params: { id }, body: { remember: options.remember ?? false } });
      printResult(approval, options.json, (a) => `approved ${shortId(a.id)}: ${a.tool}${a.rememberedPolicyId ? ` (remembered as policy ${shortId(a.rememberedPolicyId)})` : ''}`);
    });

  cli
    .command('deny <id>', 'Deny a pending call; the reason is told to the agent')
    .option('--reason <reason>', 'Why (told to the agent)')
    .option('--json', 'Print the approval as JSON')
    .example('  $ codepiper deny 1f2e --reason "not on main"')
    .action(async (id: string, options: { reason?: unknown; json?: boolean }) => {
      const reason = optionValue(options.reason, '--reason');
      const approval = await connect().call(approvalEndpoints.deny, { params: { id }, body: reason === undefined ? {} : { reason } });
      printResult(approval, options.json, (a) => `denied ${shortId(a.id)}: ${a.tool}`);
    });

  withActions(
    cli.command('policy <action> [id]', 'Permission policies: create, list, show, update, delete, enable, disable, test, import FILE, export, default [ask|deny], sets SESSION [--set S]..., bypass|unbypass SESSION'),
    ['create', 'list', 'show', 'update', 'delete', 'enable', 'disable', 'test', 'import', 'export', 'default', 'sets', 'bypass', 'unbypass'],
  )
    .usage('policy create --action allow|deny|ask (--tool T [--args JSON] | --rule "Bash(git push:*)") [--name N] [--priority N] [--session ID] [--reason R]')
    .option('--action <action>', 'allow, deny or ask')
    .option('--tool <tool>', 'Tool name, exact or glob (mcp__*); terminal_input for text typed into sessions')
    .option('--args <json>', 'Input fields and their globs, as JSON: \'{"command":"rm *"}\' (policy test: the tool input)')
    .option('--rule <rule>', 'Claude Code rule syntax instead of --tool/--args: Bash(git push:*), Read(src/**)')
    .option('--name <name>', 'Policy name (unique; default: made from action and tool)')
    .option('--priority <n>', 'Higher is considered first (default 0)')
    .option('--session <id>', 'Only for this session (update: "none" for every session)')
    .option('--set <name>', 'In this policy set: only for sessions it is attached to (start --policy-set, a workspace’s); import: every policy of the file (update: "none")')
    .option('--reason <reason>', 'Told to the agent or the user when the policy decides')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper policy create --action allow --tool "Read" --reason "File reads are safe"')
    .example('  $ codepiper policy create --action deny --tool "Bash" --args \'{"command":"rm *"}\' --reason "No mass deletes"')
    .example('  $ codepiper policy create --action allow --rule "Bash(git push:*)" --priority 10')
    .example('  $ codepiper policy test --tool Bash --args \'{"command":"rm -rf build"}\'')
    .example('  $ codepiper policy export > policies.yaml && codepiper policy import policies.yaml')
    .example('  $ codepiper policy import strict.yaml --set strict   # a policy set, for the sessions it is attached to')
    .example('  $ codepiper policy default deny      # what no policy matches is refused, not asked')
    .example('  $ codepiper policy bypass ab12       # that session runs without policies (start --dangerous does it at start)')
    .action((action: string, id: string | undefined, options: PolicyOptions) => policyCommand(action, id, options));
}

import path from 'node:path';
import type { CAC } from 'cac';
import { describeRunEvent, RUN_STATUSES, workflowEndpoints, workflowRunEndpoints, type RunStatus, type StepEventPayload, type WorkflowRun, type WorkflowRunDetail, type WorkflowValidation } from '@codepiper/workflows-contract';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import type { ApiClient } from '@codepiper/sdk';
import { optionValue, optionValues, parseEnv, parsePositiveInt } from '../args.js';
import { withActions } from '../command-line.js';
import { connect } from '../client.js';
import { readUserFile } from '../files.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { follow } from '../follow.js';
import { formatAge, formatFields, formatTable, printable, shortId } from '../format.js';
import { print, printJson } from '../output.js';

/** Exit code of `workflow run` / `logs -f` left with Ctrl-C while the run goes on. */
const EXIT_INTERRUPTED = 130;

/** `FILE:LINE:COL: path: message` per error, like a compiler; `FILE: valid (N steps)` when there are none. */
export function formatValidation(file: string, result: WorkflowValidation): string[] {
  if (result.ok) return [`${file}: valid (${result.stepCount} ${result.stepCount === 1 ? 'step' : 'steps'})`];
  return result.errors.map((e) => `${file}:${e.line}:${e.column}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
}

const time = (iso: string): string => iso.slice(11, 19);

/** Steps that take no time and say what they did in a log line of their own (`log`) or in what follows (`set`). */
const QUIET_STEPS = new Set(['log', 'set']);

/** One line of a run's progress, from one of its events; undefined for the steps not worth a line. */
export function formatRunEvent(event: CodePiperEvent): string | undefined {
  if (event.type === 'workflow.step') {
    const step = event.payload as StepEventPayload;
    if (QUIET_STEPS.has(step.type) && step.status !== 'failed') return undefined;
  }
  // The run's own lines stand out; its steps and log lines are indented under it.
  return printable(`${time(event.ts)} ${event.type === 'workflow.run' ? '' : '  '}${describeRunEvent(event)}`);
}

function showRunEvent(event: CodePiperEvent, json: boolean | undefined): void {
  const line = json ? JSON.stringify(event) : formatRunEvent(event);
  if (line !== undefined) print(line);
}

const exitCodeOf = (status: RunStatus): number => (status === 'succeeded' ? 0 : EXIT_FAILURE);

/**
 * Prints a run's events from its start, then live ones, until it ends (exit
 * code from its outcome) or Ctrl-C (the run goes on in the daemon).
 */
async function followRun(client: ApiClient, run: WorkflowRun, json: boolean | undefined): Promise<number> {
  let outcome: RunStatus | undefined;
  const socket = await client.openSocket(eventEndpoints.stream, { query: { type: 'workflow.*', after: run.eventCursor } }, (data) => {
    const event = JSON.parse(data.toString('utf8')) as CodePiperEvent;
    const payload = event.payload as { run?: string; status?: RunStatus };
    if (payload.run !== run.id || outcome) return;
    showRunEvent(event, json);
    if (event.type === 'workflow.run' && payload.status && payload.status !== 'running') {
      outcome = payload.status;
      socket.close(1000);
    }
  });
  await follow(socket);
  if (outcome) return exitCodeOf(outcome);
  process.stderr.write(`the run goes on in the daemon: codepiper workflow logs ${shortId(run.id)} -f, or codepiper workflow cancel ${shortId(run.id)}\n`);
  return EXIT_INTERRUPTED;
}

interface WorkflowOptions {
  json?: boolean;
  var?: unknown;
  detach?: boolean;
  follow?: boolean;
  status?: unknown;
  limit?: unknown;
}

async function validate(file: string, json: boolean | undefined): Promise<number> {
  const source = await readUserFile(file);
  const result = await connect().call(workflowEndpoints.validate, { body: { source, file: path.resolve(file) } });
  if (json) printJson(result);
  else for (const line of formatValidation(file, result)) print(line);
  return result.ok ? 0 : EXIT_FAILURE;
}

async function run(file: string, options: WorkflowOptions): Promise<number> {
  const vars = parseEnv(optionValues(options.var, '--var'), '--var');
  const source = await readUserFile(file);
  const client = connect();
  const absolute = path.resolve(file);
  // Validate first: errors print like `workflow validate` and nothing starts.
  const validation = await client.call(workflowEndpoints.validate, { body: { source, file: absolute } });
  if (!validation.ok) {
    if (options.json) printJson(validation);
    else for (const line of formatValidation(file, validation)) print(line);
    return EXIT_FAILURE;
  }
  // Only the variables the file reads as ${env.NAME} leave this shell.
  const env = Object.fromEntries((validation.envNames ?? []).flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));
  const started = await client.call(workflowRunEndpoints.start, { body: { source, file: absolute, ...(vars ? { vars } : {}), env } });
  if (options.detach) {
    if (options.json) printJson(started);
    else print(`started run ${shortId(started.id)} of ${started.name}: codepiper workflow logs ${shortId(started.id)} -f`);
    return 0;
  }
  return followRun(client, started, options.json);
}

const runRow = (r: WorkflowRun, now: number): string[] => [shortId(r.id), r.name, r.status, `${formatAge(r.createdAt, now)} ago`, r.file];

function describeRun(run: WorkflowRunDetail): string {
  const fields = formatFields([
    ['id', run.id],
    ['workflow', run.name],
    ['file', run.file],
    ['status', run.status + (run.error ? `: ${run.error}` : '')],
    ['started', run.createdAt],
    ['finished', run.finishedAt ?? '-'],
    ['vars', JSON.stringify(run.vars)],
  ]);
  if (run.steps.length === 0) return fields;
  const summary = (step: WorkflowRunDetail['steps'][number]): string => {
    const text = step.error ?? (typeof step.outputs.result === 'string' ? step.outputs.result : '');
    const line = text.replace(/\s+/g, ' ').trim();
    return line.length > 60 ? `${line.slice(0, 59)}…` : line;
  };
  const rows = run.steps.map((s) => [s.key, s.id ?? '-', s.type, s.status, String(s.attempt), s.sessionId ? shortId(s.sessionId) : '-', summary(s)]);
  return `${fields}\n\n${formatTable(['STEP', 'ID', 'TYPE', 'STATUS', 'TRY', 'SESSION', 'RESULT / ERROR'], rows)}`;
}

async function logs(ref: string, options: WorkflowOptions): Promise<number> {
  const client = connect();
  const run = await client.call(workflowRunEndpoints.show, { params: { id: ref } });
  if (options.follow && run.status === 'running') return followRun(client, run, options.json);
  const { events } = await client.call(workflowRunEndpoints.logs, { params: { id: run.id } });
  for (const event of events) showRunEvent(event, options.json);
  return 0;
}

const ACTIONS = ['validate', 'run', 'list', 'status', 'logs', 'cancel'] as const;

export function registerWorkflowCommands(cli: CAC): void {
  withActions(cli.command('workflow <action> [target]', 'Workflows: YAML files that chain sessions: validate, run, list, status, logs, cancel'), ['validate', 'run', 'list', 'status', 'logs', 'cancel'])
    .usage(
      'workflow <action> [FILE|RUN] [options]\n\n' +
        '  validate FILE     check a file: every error with line, column and step path\n' +
        '  run FILE          start a run and show its steps live (Ctrl-C leaves it running)\n' +
        '  list              runs, newest first\n' +
        '  status RUN        a run and the state and results of its steps\n' +
        '  logs RUN          what the run did, step by step (-f to follow)\n' +
        '  cancel RUN        stop the run and the sessions it started',
    )
    .option('--var <NAME=VALUE>', 'run: set a variable the workflow declares under vars; repeatable')
    .option('--detach', 'run: start the run and return at once')
    .option('-f, --follow', 'logs: keep printing until the run ends')
    .option('--status <status>', `list: only runs in this status: ${RUN_STATUSES.join(', ')}`)
    .option('--limit <n>', 'list: at most this many runs (default 50)')
    .option('--json', 'Print JSON (events as JSON lines for run and logs)')
    .example('  $ codepiper workflow validate examples/workflows/test-and-fix.yaml')
    .example('  $ codepiper workflow run examples/workflows/parallel-review.yaml --var focus=security')
    .example('  $ codepiper workflow status 3f2a')
    .action(async (action: string, target: string | undefined, options: WorkflowOptions) => {
      const needs = (what: string): string => {
        if (target === undefined) throw new UsageError(`workflow ${action} needs a ${what}`);
        return target;
      };
      const client = () => connect();
      switch (action as (typeof ACTIONS)[number]) {
        case 'validate':
          return validate(needs('FILE'), options.json);
        case 'run':
          return run(needs('FILE'), options);
        case 'list': {
          const status = optionValue(options.status, '--status');
          if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${RUN_STATUSES.join(', ')}, not "${status}"`);
          const limitText = optionValue(options.limit, '--limit');
          const query = { ...(status ? { status: status as RunStatus } : {}), ...(limitText ? { limit: parsePositiveInt(limitText, '--limit') } : {}) };
          const listing = await client().call(workflowRunEndpoints.list, { query });
          const { runs } = listing;
          if (options.json) printJson(listing);
          else if (runs.length === 0) print('no workflow runs');
          else print(formatTable(['RUN', 'WORKFLOW', 'STATUS', 'STARTED', 'FILE'], runs.map((r) => runRow(r, Date.now()))));
          return 0;
        }
        case 'status': {
          const detail = await client().call(workflowRunEndpoints.show, { params: { id: needs('RUN') } });
          if (options.json) printJson(detail);
          else print(describeRun(detail));
          return 0;
        }
        case 'logs':
          return logs(needs('RUN'), options);
        case 'cancel': {
          const cancelled = await client().call(workflowRunEndpoints.cancel, { params: { id: needs('RUN') } });
          if (options.json) printJson(cancelled);
          else print(cancelled.status === 'cancelled' ? `cancelled run ${shortId(cancelled.id)} of ${cancelled.name}` : `run ${shortId(cancelled.id)} of ${cancelled.name} had already ${cancelled.status}`);
          return 0;
        }
        default:
          throw new UsageError(`unknown workflow action "${action}" (expected ${ACTIONS.join(', ')})`);
      }
    });
}

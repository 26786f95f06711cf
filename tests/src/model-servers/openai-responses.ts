/**
 * A local stand-in for the OpenAI Responses API, as Codex CLI (0.169.0) uses
 * it through a custom model provider with `wire_api = "responses"`.
 *
 * `POST <base>/responses` answers with server-sent events (Codex always sends
 * `"stream": true`): `response.created`, `response.in_progress`, then per
 * output item `response.output_item.added` ... `response.output_item.done`
 * (text through `response.content_part.added`, `response.output_text.delta`,
 * `response.output_text.done`, `response.content_part.done`; a function call
 * through `response.function_call_arguments.delta` / `.done`), and
 * `response.completed` carrying `usage`. `GET|HEAD <base>/models` and
 * `HEAD <base>/responses` (what `codex doctor` probes) answer 200; anything
 * else is a 404 JSON error. Every request is recorded with the reply it got.
 *
 * Replies come from a script: rules tried in order, the first whose `when`
 * holds answers. A request no rule matches gets a plain text reply ("ok").
 * Requests that ask for structured output (`text.format.type ===
 * "json_schema"`: Codex's thread-title request, sent on its own thread next
 * to the first turn) bypass the script unless `scriptStructured` is set: they
 * get JSON that fills the schema's required string fields (`{"title": ...}`).
 */
import type { ServerResponse } from 'node:http';
import { chunks, ScriptedServer, sendJson, sleep, type RecordedRequestBase, type ScriptRule } from './scripted-server.js';

/** Usage as the Responses API reports it in `response.completed`. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** Overrides of the default usage, flat. `total_tokens` defaults to input + output. */
export interface UsageOverrides {
  input_tokens?: number;
  cached_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
  total_tokens?: number;
}

/**
 * Usage summed over replies, in the field names Codex writes to its rollout
 * (`event_msg` `token_count` `info.total_token_usage`), plus a reply count.
 */
export interface UsageTotals {
  replies: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export interface ShellCall {
  /** argv (shell-quoted into one command line when the tool takes a string) or a command line. */
  command: string[] | string;
  /** Working directory for the command (default: the turn's cwd). */
  workdir?: string;
  /**
   * Ask to run outside the sandbox (`sandbox_permissions: "require_escalated"`)
   * with this justification; under `approval_policy = "on-request"` Codex then
   * asks the user before running it.
   */
  escalate?: string;
}

export interface Reply {
  /** An assistant message (first, when there is also a shell call). */
  text?: string;
  /** A function call to Codex's shell tool (`exec_command`, or `shell_command` / `shell` if that is what the request offers). */
  shell?: ShellCall;
  /** A function call to any tool, arguments as an object. */
  functionCall?: { name: string; arguments: object };
  usage?: UsageOverrides;
  /** The model named in the reply; default: the model the request asked for. */
  model?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with an HTTP error instead of a stream. */
  error?: { status: number; message: string; type?: string; code?: string };
}

export interface InputContent {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface InputItem {
  type?: string;
  role?: string;
  content?: string | InputContent[];
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: string | InputContent[] | { content?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ResponsesBody {
  model?: string;
  input?: InputItem[];
  instructions?: string;
  tools?: { type: string; name?: string; [key: string]: unknown }[];
  stream?: boolean;
  text?: { format?: { type?: string; name?: string; schema?: JsonSchema } };
  [key: string]: unknown;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

export interface RecordedReply {
  /** Index of the script rule that answered; undefined for the defaults (and for non-response endpoints). */
  rule: number | undefined;
  status: number;
  /** Response id (`resp_fake_<n>`) when a response was streamed. */
  id?: string;
  model?: string;
  usage?: ResponsesUsage;
  text?: string;
  functionCall?: { callId: string; name: string; arguments: string };
  structured?: boolean;
}

export interface RecordedRequest extends RecordedRequestBase<ResponsesBody> {
  reply?: RecordedReply;
}

export type Rule = ScriptRule<RecordedRequest, Reply>;

export type Script = Rule[];

export interface FakeResponsesOptions {
  /** Send structured-output (thread title) requests through the script too. */
  scriptStructured?: boolean;
}

function contentText(content: InputItem['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? [])
    .filter((c) => (c.type === 'input_text' || c.type === 'output_text' || c.type === 'text') && typeof c.text === 'string')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** Whether the request is a `POST .../responses` (a model turn). */
export function isResponsesRequest(req: RecordedRequest): boolean {
  return req.method === 'POST' && req.path.endsWith('/responses');
}

/** Whether the request asks for structured JSON output (Codex's thread-title request). */
export function isStructured(req: RecordedRequest): boolean {
  return req.body.text?.format?.type === 'json_schema';
}

/** Codex's session (thread) id for the request, from its `session-id` header. */
export function sessionIdOf(req: RecordedRequest): string | undefined {
  const value = req.headers['session-id'];
  return Array.isArray(value) ? value[0] : value;
}

/** `x-codex-turn-metadata` parsed (`thread_source`: "user" or "thread_title", `turn_id`, `sandbox_mode`, ...). */
export function turnMetadata(req: RecordedRequest): Record<string, unknown> | undefined {
  const value = req.headers['x-codex-turn-metadata'];
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Text of the last user message in `input`. Codex also sends its
 * `<environment_context>` as a user message, before the prompt, so after a
 * prompt this is the prompt (and stays so while tool outputs follow it).
 */
export function lastUserText(req: RecordedRequest): string {
  const input = req.body.input ?? [];
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i];
    if (item && (item.type === 'message' || item.type === undefined) && item.role === 'user') return contentText(item.content).trim();
  }
  return '';
}

const outputTypes = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output']);

/** Whether the last input item is a tool's output (the agent ran a tool and waits for the model). */
export function lastIsFunctionCallOutput(req: RecordedRequest): boolean {
  const input = req.body.input ?? [];
  const last = input[input.length - 1];
  return last?.type !== undefined && outputTypes.has(last.type);
}

/** The last tool output in `input`: its call id and text. */
export function functionCallOutput(req: RecordedRequest): { callId: string; text: string } | undefined {
  const input = req.body.input ?? [];
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i];
    if (!item?.type || !outputTypes.has(item.type)) continue;
    const output = item.output;
    let text: string;
    if (typeof output === 'string') text = output;
    else if (Array.isArray(output)) text = contentText(output);
    else text = typeof output?.content === 'string' ? output.content : JSON.stringify(output ?? '');
    return { callId: item.call_id ?? '', text };
  }
  return undefined;
}

/** The function tool names offered in the request. */
export function toolNames(req: RecordedRequest): string[] {
  return (req.body.tools ?? []).flatMap((t) => (t.name ? [t.name] : []));
}

export function emptyTotals(): UsageTotals {
  return { replies: 0, input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 0 };
}

export function addUsage(totals: UsageTotals, usage: ResponsesUsage): UsageTotals {
  totals.replies += 1;
  totals.input_tokens += usage.input_tokens;
  totals.cached_input_tokens += usage.input_tokens_details.cached_tokens;
  totals.output_tokens += usage.output_tokens;
  totals.reasoning_output_tokens += usage.output_tokens_details.reasoning_tokens;
  totals.total_tokens += usage.total_tokens;
  return totals;
}

/** Deterministic, non-zero, different for every reply n (1, 2, ...). */
export function defaultUsage(n: number): ResponsesUsage {
  return makeUsage({ input_tokens: 1000 + n, cached_tokens: 200 + n, output_tokens: 20 + n, reasoning_tokens: 5 + n });
}

export function makeUsage(over: UsageOverrides, base?: ResponsesUsage): ResponsesUsage {
  const input = over.input_tokens ?? base?.input_tokens ?? 0;
  const output = over.output_tokens ?? base?.output_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: over.cached_tokens ?? base?.input_tokens_details.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: over.reasoning_tokens ?? base?.output_tokens_details.reasoning_tokens ?? 0 },
    total_tokens: over.total_tokens ?? input + output,
  };
}

/** POSIX-shell quoting of one word. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function shellArguments(call: ShellCall, tools: string[]): { name: string; args: Record<string, unknown> } {
  const line = typeof call.command === 'string' ? call.command : call.command.map(shellQuote).join(' ');
  const extra: Record<string, unknown> = {};
  if (call.workdir) extra.workdir = call.workdir;
  if (call.escalate !== undefined) {
    extra.sandbox_permissions = 'require_escalated';
    extra.justification = call.escalate;
  }
  // 0.169.0 offers `exec_command` (unified exec); older versions `shell_command` or `shell`.
  if (!tools.includes('exec_command') && tools.includes('shell_command')) return { name: 'shell_command', args: { command: line, ...extra } };
  if (!tools.includes('exec_command') && tools.includes('shell')) {
    const argv = typeof call.command === 'string' ? ['bash', '-lc', call.command] : call.command;
    return { name: 'shell', args: { command: argv, ...extra } };
  }
  return { name: 'exec_command', args: { cmd: line, ...extra } };
}

/** JSON satisfying a simple object schema: required strings get `"Fake <name>"`. */
function fillSchema(schema: JsonSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    if (!(schema?.required ?? []).includes(name)) continue;
    if (prop.type === 'string') out[name] = `Fake ${name}`;
    else if (prop.type === 'number' || prop.type === 'integer') out[name] = 0;
    else if (prop.type === 'boolean') out[name] = false;
    else if (prop.type === 'array') out[name] = [];
    else if (prop.type === 'object') out[name] = fillSchema(prop);
    else out[name] = null;
  }
  return out;
}

export class FakeResponses extends ScriptedServer<ResponsesBody, RecordedRequest, Reply> {
  private constructor(
    script: Script,
    private readonly options: FakeResponsesOptions,
  ) {
    super(script);
  }

  static async start(script: Script = [], options: FakeResponsesOptions = {}): Promise<FakeResponses> {
    const fake = new FakeResponses(script, options);
    await fake.listen();
    return fake;
  }

  /** The provider `base_url`, e.g. `http://127.0.0.1:PORT/v1` (Codex appends `/responses`). */
  get url(): string {
    return `${this.origin}/v1`;
  }

  /** Recorded `POST .../responses` requests. */
  responseRequests(): RecordedRequest[] {
    return this.requests.filter(isResponsesRequest);
  }

  /** Sum of the usage sent in `response.completed`, optionally only for the requests `filter` accepts. */
  reportedUsage(filter: (req: RecordedRequest) => boolean = () => true): UsageTotals {
    const totals = emptyTotals();
    for (const req of this.requests) if (req.reply?.usage && filter(req)) addUsage(totals, req.reply.usage);
    return totals;
  }

  protected errorBody(message: string): unknown {
    return { error: { type: 'server_error', message } };
  }

  protected async respond(recorded: RecordedRequest, res: ServerResponse): Promise<void> {
    if ((recorded.method === 'GET' || recorded.method === 'HEAD') && recorded.path.endsWith('/models')) {
      recorded.reply = { rule: undefined, status: 200 };
      return sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] });
    }
    if (recorded.method === 'HEAD' && recorded.path.endsWith('/responses')) {
      recorded.reply = { rule: undefined, status: 200 };
      res.writeHead(200);
      return void res.end();
    }
    if (!isResponsesRequest(recorded)) {
      recorded.reply = { rule: undefined, status: 404 };
      return sendJson(res, 404, { error: { type: 'invalid_request_error', message: `${recorded.method} ${recorded.path} is not served here` } });
    }

    const { reply, rule, structured } = this.decide(recorded);
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.error) {
      recorded.reply = { rule, status: reply.error.status };
      return sendJson(res, reply.error.status, {
        error: { type: reply.error.type ?? 'invalid_request_error', code: reply.error.code ?? null, message: reply.error.message, param: null },
      });
    }

    const n = ++this.replyCount;
    const id = `resp_fake_${n}`;
    const model = reply.model ?? recorded.body.model ?? 'fake-model';
    const usage = makeUsage(reply.usage ?? {}, defaultUsage(n));
    let functionCall: RecordedReply['functionCall'];
    if (reply.shell) {
      const { name, args } = shellArguments(reply.shell, toolNames(recorded));
      functionCall = { callId: `call_fake_${n}`, name, arguments: JSON.stringify(args) };
    } else if (reply.functionCall) {
      functionCall = { callId: `call_fake_${n}`, name: reply.functionCall.name, arguments: JSON.stringify(reply.functionCall.arguments) };
    }
    const text = reply.text ?? (functionCall ? undefined : '');
    recorded.reply = {
      rule,
      status: 200,
      id,
      model,
      usage,
      ...(text !== undefined ? { text } : {}),
      ...(functionCall ? { functionCall } : {}),
      ...(structured ? { structured } : {}),
    };

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': `req_fake_${n}` });
    let sequence = 0;
    const send = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
    const created = Math.floor(Date.now() / 1000);
    const response = (status: string, output: object[], withUsage: boolean) => ({
      id,
      object: 'response',
      created_at: created,
      status,
      model,
      output,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: [],
      usage: withUsage ? usage : null,
      error: null,
      incomplete_details: null,
    });

    send('response.created', { response: response('in_progress', [], false) });
    send('response.in_progress', { response: response('in_progress', [], false) });
    const output: object[] = [];
    if (text !== undefined) {
      const itemId = `msg_fake_${n}`;
      const outputIndex = output.length;
      const part = { type: 'output_text', text, annotations: [] };
      const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
      send('response.content_part.added', { item_id: itemId, output_index: outputIndex, content_index: 0, part: { ...part, text: '' } });
      for (const delta of chunks(text, 3)) send('response.output_text.delta', { item_id: itemId, output_index: outputIndex, content_index: 0, delta, logprobs: [] });
      send('response.output_text.done', { item_id: itemId, output_index: outputIndex, content_index: 0, text, logprobs: [] });
      send('response.content_part.done', { item_id: itemId, output_index: outputIndex, content_index: 0, part });
      send('response.output_item.done', { output_index: outputIndex, item });
      output.push(item);
    }
    if (functionCall) {
      const itemId = `fc_fake_${n}`;
      const outputIndex = output.length;
      const item = { id: itemId, type: 'function_call', status: 'completed', call_id: functionCall.callId, name: functionCall.name, arguments: functionCall.arguments };
      send('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of chunks(functionCall.arguments, 2)) send('response.function_call_arguments.delta', { item_id: itemId, output_index: outputIndex, delta });
      send('response.function_call_arguments.done', { item_id: itemId, output_index: outputIndex, name: functionCall.name, arguments: functionCall.arguments });
      send('response.output_item.done', { output_index: outputIndex, item });
      output.push(item);
    }
    send('response.completed', { response: response('completed', output, true) });
    res.end();
  }

  private decide(req: RecordedRequest): { reply: Reply; rule: number | undefined; structured: boolean } {
    if (isStructured(req) && !this.options.scriptStructured) {
      return { reply: { text: JSON.stringify(fillSchema(req.body.text?.format?.schema)) }, rule: undefined, structured: true };
    }
    const scripted = this.scripted(req);
    return scripted ? { ...scripted, structured: false } : { reply: { text: 'ok' }, rule: undefined, structured: false };
  }
}

/**
 * A local stand-in for the Anthropic Messages API, as Claude Code uses it.
 *
 * `POST /v1/messages` (Claude Code adds `?beta=true`) answers with server-sent
 * events when the body says `"stream": true`, else with one JSON message;
 * `POST /v1/messages/count_tokens` answers `{input_tokens}`; anything else is a
 * 404 JSON error. Every request is recorded (parsed body, path, headers) with
 * the reply it got, so tests can assert on what the agent sent and on the
 * exact usage the server reported.
 *
 * Replies come from a script: rules tried in order, the first whose `when`
 * holds answers. A request no rule matches gets the plain text "ok" (or, when
 * it asks for structured output, JSON with "ok" strings): Claude Code sends
 * side requests of its own, e.g. for a session title, unless
 * CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set.
 */
import type { ServerResponse } from 'node:http';
import { chunks, ScriptedServer, sendJson, sleep, type RecordedRequestBase, type ScriptRule } from './scripted-server.js';

export interface CacheCreation {
  ephemeral_5m_input_tokens: number;
  ephemeral_1h_input_tokens: number;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: CacheCreation;
}

/** Usage summed by field (the cache-creation split flattened). */
export interface UsageTotals {
  /** How many replies were counted. */
  replies: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  ephemeral_5m_input_tokens: number;
  ephemeral_1h_input_tokens: number;
}

export interface Reply {
  /** A text block (first, when there is also a tool call). */
  text?: string;
  /** A tool_use block; makes stop_reason `tool_use`. */
  toolUse?: { name: string; input: object };
  /** Overrides of the default usage (which differs per reply). */
  usage?: Partial<Usage>;
  /** The model named in the reply; default: the model the request asked for. */
  model?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer only once this settles (a test holds a turn open across something, e.g. a daemon restart). */
  heldUntil?: Promise<unknown>;
  /** Answer with an API error instead of a message (e.g. 529 overloaded_error, 400 invalid_request_error). */
  error?: { status: number; type: string; message: string };
}

export interface MessageParam {
  /** Claude Code 2.1.328 also sends mid-conversation `system` messages. */
  role: 'user' | 'assistant' | 'system';
  content: string | ContentBlock[];
}

export interface ContentBlock {
  type: string;
  text?: string;
  content?: string | ContentBlock[];
  is_error?: boolean;
  [key: string]: unknown;
}

export interface MessagesBody {
  model?: string;
  messages?: MessageParam[];
  system?: string | ContentBlock[];
  tools?: { name: string; [key: string]: unknown }[];
  stream?: boolean;
  max_tokens?: number;
  [key: string]: unknown;
}

/** What the server sent back for a request. */
export interface RecordedReply {
  /** Index of the script rule that answered; undefined for the default reply and for other endpoints. */
  rule: number | undefined;
  /** HTTP status; 499 when the client hung up during `delayMs` or `heldUntil` (nothing sent, no usage counted). */
  status: number;
  /** Message id (`msg_fake_<n>`) when a message was sent. */
  id?: string;
  model?: string;
  usage?: Usage;
  stopReason?: 'end_turn' | 'tool_use';
  text?: string;
  toolUse?: { id: string; name: string; input: object };
}

export interface RecordedRequest extends RecordedRequestBase<MessagesBody> {
  /** Filled in once the reply is decided. */
  reply?: RecordedReply;
}

export type Rule = ScriptRule<RecordedRequest, Reply>;

export type Script = Rule[];

function blocksOf(message: MessageParam | undefined): ContentBlock[] {
  if (!message) return [];
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function lastUserMessage(req: RecordedRequest): MessageParam | undefined {
  const messages = req.body.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return messages[i];
  return undefined;
}

const systemReminder = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

/**
 * Text of the last user message: its text blocks joined with newlines,
 * without tool_result blocks and without Claude Code's `<system-reminder>`
 * blocks. '' when that message only carries tool results.
 */
export function lastUserText(req: RecordedRequest): string {
  return blocksOf(lastUserMessage(req))
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => (b.text ?? '').replace(systemReminder, '').trim())
    .filter((t) => t !== '')
    .join('\n');
}

/** The images of the last user message: what the agent attached to the prompt, as the model receives them. */
export function imagesOf(req: RecordedRequest): { mediaType: string; data: string }[] {
  return blocksOf(lastUserMessage(req))
    .filter((b) => b.type === 'image')
    .map((b) => {
      const source = (b.source ?? {}) as { media_type?: unknown; data?: unknown };
      return { mediaType: String(source.media_type), data: String(source.data) };
    });
}

/** Whether the last user message carries a tool_result (the agent ran a tool and waits for the model). */
export function hasToolResult(req: RecordedRequest): boolean {
  return blocksOf(lastUserMessage(req)).some((b) => b.type === 'tool_result');
}

/** The last tool_result of the last user message: its text content, is_error and tool_use_id. */
export function toolResultText(req: RecordedRequest): { text: string; isError: boolean; toolUseId: string | undefined } | undefined {
  const results = blocksOf(lastUserMessage(req)).filter((b) => b.type === 'tool_result');
  const result = results[results.length - 1];
  if (!result) return undefined;
  const content = result.content;
  const text =
    typeof content === 'string'
      ? content
      : (content ?? [])
          .filter((b) => b.type === 'text')
          .map((b) => b.text ?? '')
          .join('\n');
  return { text, isError: result.is_error === true, toolUseId: typeof result.tool_use_id === 'string' ? result.tool_use_id : undefined };
}

/** The tool names offered in the request (empty for Claude Code's side requests). */
export function toolNames(req: RecordedRequest): string[] {
  return (req.body.tools ?? []).map((t) => t.name);
}

/**
 * Whether this is a turn of the agent's conversation (it offers tools), as
 * opposed to a side request such as Claude Code's session-title request
 * (no tools, a `json_schema` output format). Only these end up as
 * `assistant` lines in Claude Code's transcript.
 */
export function isMainConversation(req: RecordedRequest): boolean {
  return req.path === '/v1/messages' && toolNames(req).length > 0;
}

/** A minimal value satisfying a JSON schema (strings "ok"), for structured-output requests no rule answers. */
function sampleFor(schema: unknown): unknown {
  const s = (schema ?? {}) as { type?: string; properties?: Record<string, unknown>; enum?: unknown[] };
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([key, value]) => [key, sampleFor(value)]));
    case 'array':
      return [];
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return 'ok';
  }
}

function defaultReply(req: RecordedRequest): Reply {
  const format = (req.body.output_config as { format?: { type?: string; schema?: unknown } } | undefined)?.format;
  return { text: format?.type === 'json_schema' ? JSON.stringify(sampleFor(format.schema)) : 'ok' };
}

export function emptyTotals(): UsageTotals {
  return {
    replies: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    ephemeral_5m_input_tokens: 0,
    ephemeral_1h_input_tokens: 0,
  };
}

/** Adds one usage record (API or transcript shape; missing fields count as 0) to totals. */
export function addUsage(totals: UsageTotals, usage: Partial<Usage> | undefined): UsageTotals {
  totals.replies += 1;
  totals.input_tokens += usage?.input_tokens ?? 0;
  totals.output_tokens += usage?.output_tokens ?? 0;
  totals.cache_creation_input_tokens += usage?.cache_creation_input_tokens ?? 0;
  totals.cache_read_input_tokens += usage?.cache_read_input_tokens ?? 0;
  totals.ephemeral_5m_input_tokens += usage?.cache_creation?.ephemeral_5m_input_tokens ?? 0;
  totals.ephemeral_1h_input_tokens += usage?.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  return totals;
}

/** Deterministic, non-zero, different for every reply n (1, 2, ...). */
export function defaultUsage(n: number): Usage {
  return {
    input_tokens: 1000 + n,
    output_tokens: 10 + n,
    cache_creation_input_tokens: 100 + n,
    cache_read_input_tokens: 500 + n,
    cache_creation: { ephemeral_5m_input_tokens: 70 + n, ephemeral_1h_input_tokens: 30 },
  };
}

function mergeUsage(base: Usage, over: Partial<Usage> | undefined): Usage {
  if (!over) return base;
  const usage: Usage = { ...base, ...over, cache_creation: { ...base.cache_creation } };
  if (over.cache_creation) {
    usage.cache_creation = { ...over.cache_creation };
    if (over.cache_creation_input_tokens === undefined)
      usage.cache_creation_input_tokens = over.cache_creation.ephemeral_5m_input_tokens + over.cache_creation.ephemeral_1h_input_tokens;
  } else if (over.cache_creation_input_tokens !== undefined) {
    usage.cache_creation = { ephemeral_5m_input_tokens: over.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 };
  }
  return usage;
}

function estimateTokens(body: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? {}).length / 4));
}

export class FakeAnthropic extends ScriptedServer<MessagesBody, RecordedRequest, Reply> {
  static async start(script: Script = []): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic(script);
    await fake.listen();
    return fake;
  }

  /** Base URL for ANTHROPIC_BASE_URL, e.g. `http://127.0.0.1:PORT`. */
  get url(): string {
    return this.origin;
  }

  /** Recorded `POST /v1/messages` requests (the ones that get model replies). */
  messageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
  }

  /**
   * The sum of every usage this server sent in message replies, by field;
   * optionally only for the requests `filter` accepts.
   */
  reportedUsage(filter: (req: RecordedRequest) => boolean = () => true): UsageTotals {
    const totals = emptyTotals();
    for (const req of this.requests) if (req.reply?.usage && filter(req)) addUsage(totals, req.reply.usage);
    return totals;
  }

  protected errorBody(message: string): unknown {
    return { type: 'error', error: { type: 'api_error', message } };
  }

  protected async respond(recorded: RecordedRequest, res: ServerResponse): Promise<void> {
    const { body } = recorded;
    if (recorded.method === 'POST' && recorded.path === '/v1/messages/count_tokens') {
      recorded.reply = { rule: undefined, status: 200 };
      return sendJson(res, 200, { input_tokens: estimateTokens(body.messages) + estimateTokens(body.system) + estimateTokens(body.tools) });
    }
    if (recorded.method !== 'POST' || recorded.path !== '/v1/messages') {
      recorded.reply = { rule: undefined, status: 404 };
      return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `${recorded.method} ${recorded.path} is not served here` } });
    }

    const { reply, rule } = this.decide(recorded);
    if (reply.delayMs || reply.heldUntil) {
      let hungUp = false;
      res.once('close', () => (hungUp = true));
      await Promise.all([sleep(reply.delayMs ?? 0), reply.heldUntil]);
      // The client gave up while we waited (e.g. Esc in Claude Code): nothing is sent or counted.
      if (hungUp) {
        recorded.reply = { rule, status: 499 };
        return;
      }
    }
    if (reply.error) {
      recorded.reply = { rule, status: reply.error.status };
      return sendJson(res, reply.error.status, { type: 'error', error: { type: reply.error.type, message: reply.error.message } });
    }

    const n = ++this.replyCount;
    const id = `msg_fake_${n}`;
    const model = reply.model ?? body.model ?? 'claude-fake';
    const usage = mergeUsage(defaultUsage(n), reply.usage);
    const toolUse = reply.toolUse ? { id: `toolu_fake_${n}`, name: reply.toolUse.name, input: reply.toolUse.input } : undefined;
    const stopReason = toolUse ? 'tool_use' : 'end_turn';
    const text = reply.text ?? (toolUse ? undefined : '');
    recorded.reply = { rule, status: 200, id, model, usage, stopReason, ...(text !== undefined ? { text } : {}), ...(toolUse ? { toolUse } : {}) };

    const content: ContentBlock[] = [];
    if (text !== undefined) content.push({ type: 'text', text });
    if (toolUse) content.push({ type: 'tool_use', ...toolUse });

    if (!body.stream) {
      return sendJson(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { ...usage, service_tier: 'standard' },
      });
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': `req_fake_${n}`,
    });
    const send = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    // As the real API does, message_start carries the input side and a
    // provisional output count; message_delta carries the final, cumulative usage.
    send('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: Math.min(1, usage.output_tokens), service_tier: 'standard' },
      },
    });
    content.forEach((block, index) => {
      if (block.type === 'text') {
        send('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const piece of chunks(block.text ?? '', 3)) send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      } else {
        send('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        for (const piece of chunks(JSON.stringify(block.input), 2)) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
      send('content_block_stop', { index });
    });
    send('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        output_tokens: usage.output_tokens,
      },
    });
    send('message_stop', {});
    res.end();
  }

  private decide(req: RecordedRequest): { reply: Reply; rule: number | undefined } {
    return this.scripted(req) ?? { reply: defaultReply(req), rule: undefined };
  }
}

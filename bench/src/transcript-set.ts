import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes agent history that looks like the real thing, for the import
 * benchmark: Claude Code sessions (prompts, answers whose usage repeats over
 * several lines, tool calls, large tool results, attachments, subagent
 * transcripts) and Codex rollouts (messages, function calls and outputs,
 * cumulative token counts), about 85 % and 15 % of the bytes.
 */
export class TranscriptSet {
  private written = 0;
  private claudeWritten = 0;
  private sessions = 0;

  constructor(readonly root: string) {}

  /** What CLAUDE_CONFIG_DIR would be (ccusage reads `projects/` under it). */
  get claudeConfigDir(): string {
    return path.join(this.root, 'claude');
  }

  /** Claude Code's transcripts, a directory per project, as under ~/.claude/projects. */
  get claudeDir(): string {
    return path.join(this.claudeConfigDir, 'projects');
  }

  get codexDir(): string {
    return path.join(this.root, 'codex');
  }

  get bytes(): number {
    return this.written;
  }

  /** The part of `bytes` in Claude Code's transcripts. */
  get claudeBytes(): number {
    return this.claudeWritten;
  }

  /** Adds sessions until the set holds at least `bytes`. */
  growTo(bytes: number): void {
    while (this.written < bytes) {
      this.sessions += 1;
      if (this.sessions % 7 === 0) this.codexSession();
      else this.claudeSession();
    }
  }

  private write(file: string, lines: string[]): void {
    mkdirSync(path.dirname(file), { recursive: true });
    const fd = openSync(file, 'a');
    try {
      const text = lines.join('\n') + '\n';
      writeSync(fd, text);
      const size = Buffer.byteLength(text);
      this.written += size;
      if (file.startsWith(this.claudeDir)) this.claudeWritten += size;
    } finally {
      closeSync(fd);
    }
  }

  private claudeSession(): void {
    const n = this.sessions;
    const id = uuid(n);
    const cwd = `/home/dev/project-${n % 40}`;
    const dir = path.join(this.claudeDir, cwd.replace(/[^a-zA-Z0-9]/g, '-'));
    const lines: string[] = [];
    for (let turn = 0; turn < 60; turn++) lines.push(...claudeTurn(id, cwd, `${n}_${turn}`, turn));
    this.write(path.join(dir, `${id}.jsonl`), lines);
    if (n % 3 === 0) {
      const sub: string[] = [];
      for (let turn = 0; turn < 15; turn++) sub.push(...claudeTurn(id, cwd, `${n}_s${turn}`, turn, `a${n.toString(16)}`));
      this.write(path.join(dir, id, 'subagents', `agent-a${n.toString(16)}.jsonl`), sub);
    }
  }

  private codexSession(): void {
    const n = this.sessions;
    const id = uuid(n);
    const cwd = `/home/dev/project-${n % 40}`;
    const ts = '2026-11-20T10:00:00.000Z';
    const lines = [line(ts, 'session_meta', { id, cwd, originator: 'codex_cli_rs', cli_version: '0.169.0', instructions: FILLER.slice(0, 2000) })];
    const total = { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 0 };
    for (let turn = 0; turn < 80; turn++) {
      lines.push(line(ts, 'turn_context', { cwd, model: 'gpt-5-codex', approval_policy: 'on-request' }));
      lines.push(line(ts, 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: `please do step ${turn} ${FILLER.slice(0, 300)}` }] }));
      lines.push(line(ts, 'response_item', { type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: `make step${turn}` }), call_id: `call_${n}_${turn}` }));
      lines.push(line(ts, 'response_item', { type: 'function_call_output', call_id: `call_${n}_${turn}`, output: FILLER.slice(0, 6000 + (turn % 5) * 1500) }));
      lines.push(line(ts, 'response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: FILLER.slice(0, 800) }] }));
      const last = { input_tokens: 9000 + turn, cached_input_tokens: 7000, output_tokens: 300 + turn, reasoning_output_tokens: 120, total_tokens: 9300 + 2 * turn };
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += last[key];
      lines.push(line(ts, 'event_msg', { type: 'token_count', info: { total_token_usage: { ...total }, last_token_usage: last, model_context_window: 272000 } }));
    }
    this.write(path.join(this.codexDir, '2026', '11', '20', `rollout-2026-11-20T10-00-00-${id}.jsonl`), lines);
  }
}

const FILLER = Array.from({ length: 600 }, (_, i) => `line ${i} of a file the agent read: const value${i} = compute(${i}) // lorem ipsum dolor`).join('\\n');

const uuid = (n: number): string => {
  const hex = n.toString(16).padStart(12, '0');
  return `5e55a0de-0000-4000-8000-${hex}`;
};

const line = (timestamp: string, type: string, payload: object): string => JSON.stringify({ timestamp, type, payload });

function claudeTurn(sessionId: string, cwd: string, key: string, turn: number, agentId?: string): string[] {
  const base = { parentUuid: `p-${key}`, isSidechain: agentId !== undefined, ...(agentId ? { agentId } : {}), userType: 'external', cwd, sessionId, version: '2.1.328', gitBranch: 'main' };
  const ts = `2026-11-${String(10 + (turn % 15)).padStart(2, '0')}T10:00:00.000Z`;
  const usage = { input_tokens: 12 + turn, cache_creation_input_tokens: 400, cache_read_input_tokens: 30000 + turn, output_tokens: 250, cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 100 }, service_tier: 'standard' };
  const message = (content: object[]) => ({ id: `msg_${key}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content, stop_reason: null, usage });
  return [
    JSON.stringify({ ...base, type: 'user', message: { role: 'user', content: `step ${turn}: ${FILLER.slice(0, 400)}` }, uuid: `u-${key}`, timestamp: ts }),
    JSON.stringify({ ...base, type: 'attachment', attachment: { type: 'environment', snapshot: { workingDirectory: cwd } }, uuid: `at-${key}`, timestamp: ts }),
    JSON.stringify({ ...base, type: 'assistant', requestId: `req_${key}`, message: message([{ type: 'thinking', thinking: FILLER.slice(0, 600), signature: 'x'.repeat(200) }]), uuid: `a1-${key}`, timestamp: ts }),
    JSON.stringify({ ...base, type: 'assistant', requestId: `req_${key}`, message: message([{ type: 'text', text: FILLER.slice(0, 500) }]), uuid: `a2-${key}`, timestamp: ts }),
    JSON.stringify({ ...base, type: 'assistant', requestId: `req_${key}`, message: message([{ type: 'tool_use', id: `toolu_${key}`, name: ['Read', 'Bash', 'Edit', 'Grep'][turn % 4], input: { file_path: `${cwd}/src/file${turn}.ts` } }]), uuid: `a3-${key}`, timestamp: ts }),
    JSON.stringify({ ...base, type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${key}`, content: FILLER.slice(0, 5000 + (turn % 7) * 2000) }] }, uuid: `r-${key}`, timestamp: ts }),
  ];
}

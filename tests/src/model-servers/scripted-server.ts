/**
 * What the fake model servers share: an HTTP server on 127.0.0.1 that records
 * every request (parsed JSON body, path, headers) and answers from a script of
 * rules tried in order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequestBase<Body> {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The full request target. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (an empty object when there was none or it was not JSON). */
  body: Body;
}

export interface ScriptRule<Req, Reply> {
  when?: (req: Req) => boolean;
  reply: Reply | ((req: Req) => Reply);
  /** Use this rule at most this many times (default: unlimited). */
  times?: number;
}

export abstract class ScriptedServer<Body extends object, Req extends RecordedRequestBase<Body>, Reply> {
  readonly requests: Req[] = [];
  /** Replies sent so far; numbers ids and default usage. */
  protected replyCount = 0;
  private script: ScriptRule<Req, Reply>[];
  private readonly uses = new Map<number, number>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  protected constructor(script: ScriptRule<Req, Reply>[]) {
    this.script = script;
    this.server = createServer((req, res) => {
      void this.receive(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.errorBody(String(error))));
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Answers a recorded request. */
  protected abstract respond(recorded: Req, res: ServerResponse): Promise<void>;

  /** The body of a 500 reply, in the API's own error shape. */
  protected abstract errorBody(message: string): unknown;

  protected listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  protected get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Replaces the script (rule use counts start over). */
  setScript(script: ScriptRule<Req, Reply>[]): void {
    this.script = script;
    this.uses.clear();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** The first rule that accepts `req` and has uses left, counting the use. */
  protected scripted(req: Req): { reply: Reply; rule: number } | undefined {
    for (const [index, rule] of this.script.entries()) {
      const used = this.uses.get(index) ?? 0;
      if (rule.times !== undefined && used >= rule.times) continue;
      if (rule.when && !rule.when(req)) continue;
      this.uses.set(index, used + 1);
      return { reply: typeof rule.reply === 'function' ? (rule.reply as (req: Req) => Reply)(req) : rule.reply, rule: index };
    }
    return undefined;
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parts: Buffer[] = [];
    for await (const chunk of req) parts.push(chunk as Buffer);
    const raw = Buffer.concat(parts).toString('utf8');
    let body = {} as Body;
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Body;
    } catch {
      // Recorded with an empty body.
    }
    const target = req.url ?? '/';
    const recorded = { method: req.method ?? 'GET', path: target.split('?')[0] ?? target, url: target, headers: { ...req.headers }, body } as Req;
    this.requests.push(recorded);
    await this.respond(recorded, res);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const payload = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** Splits a string into up to `parts` pieces (for realistic deltas). */
export function chunks(text: string, parts: number): string[] {
  if (text.length === 0) return [];
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

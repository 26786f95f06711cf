import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { httpAuthenticate, localControlRequest, ApiClient, ApiError, CodePiperError, createServiceRef, defineEndpoint, defineLinesEndpoint, defineSocketEndpoint, PLUGIN_API_VERSION, type AnyPlugin, type AnyServiceRef, type LocalControlRequest, type PluginContext, type PluginLifecycle } from '@codepiper/sdk';
import * as Type from '@sinclair/typebox';
import { createKernel, type Kernel } from './kernel.js';
import { request, tempDir } from './testing.js';

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

interface Services {
  provides?: AnyServiceRef[];
  uses?: AnyServiceRef[];
}

function plugin(name: string, register: (ctx: PluginContext<unknown>) => PluginLifecycle | void, services: Services = {}): AnyPlugin {
  return { name, api: '^1.0.0', description: `the ${name} plugin`, ...services, register };
}

/** A plugin that provides empty services, records its start and stop in `journal`, and may fail at either. */
function recorder(name: string, journal: string[], options: Services & { failAt?: 'start' | 'stop' } = {}): AnyPlugin {
  const step = (phase: 'start' | 'stop') => async () => {
    journal.push(`${phase} ${name}`);
    if (options.failAt === phase) throw new Error(`${name} cannot ${phase}`);
  };
  return plugin(
    name,
    (ctx) => {
      for (const ref of options.provides ?? []) ctx.services.provide(ref, () => ({}));
      return { start: step('start'), stop: step('stop') };
    },
    { provides: options.provides, uses: options.uses },
  );
}

function kernelFor(t: TestContext, plugins: AnyPlugin[], env: Record<string, string> = {}): Kernel {
  const kernel = createKernel({ plugins, env: { CODEPIPER_HOME: tempDir(t), ...env } });
  t.after(() => kernel.stop('test over'));
  return kernel;
}

function logLines(kernel: Kernel): Record<string, unknown>[] {
  return fs
    .readFileSync(kernel.paths.logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('kernel lifecycle', () => {
  it('starts plugins in dependency order and stops them in reverse, past a failing stop', async (t) => {
    const journal: string[] = [];
    const sessions = createServiceRef('sessions.directory', 'Sessions', '1.0.0');
    const events = createServiceRef('events.log', 'Events', '1.0.0');
    const kernel = kernelFor(t, [
      recorder('web', journal, { uses: [sessions] }),
      recorder('sessions', journal, { provides: [sessions], uses: [events], failAt: 'stop' }),
      recorder('events', journal, { provides: [events] }),
    ]);
    await kernel.start();
    assert.ok(fs.existsSync(kernel.paths.pidFile));
    await Promise.all([kernel.stop('test'), kernel.stop('again')]);
    assert.equal(await kernel.stopped, 'test');
    assert.deepEqual(journal, ['start events', 'start sessions', 'start web', 'stop web', 'stop sessions', 'stop events']);
    assert.ok(!fs.existsSync(kernel.paths.pidFile));
    assert.ok(!fs.existsSync(kernel.paths.socket));
    const failure = logLines(kernel).find((line) => line.level === 50);
    assert.equal(failure?.plugin, 'sessions');
    assert.match(String(failure?.msg), /sessions cannot stop/);
  });

  it('names the plugin that fails to start and stops those already started', async (t) => {
    const journal: string[] = [];
    const kernel = kernelFor(t, [recorder('events', journal), recorder('sessions', journal, { failAt: 'start' }), recorder('web', journal)]);
    await assert.rejects(kernel.start(), { message: 'plugin "sessions" failed to start: sessions cannot start' });
    assert.deepEqual(journal, ['start events', 'start sessions', 'stop events']);
    assert.ok(!fs.existsSync(kernel.paths.socket));
    assert.equal(await kernel.stopped, 'failed to start');
  });

  it('names the plugin that fails to register', async (t) => {
    const kernel = kernelFor(t, [
      plugin('broken', () => {
        throw new Error('bad wiring');
      }),
    ]);
    await assert.rejects(kernel.start(), { message: 'plugin "broken" failed to register: bad wiring' });
  });

  it('refuses a service a plugin did not declare, and one it declared but did not provide', async (t) => {
    const secrets = createServiceRef<{ get(name: string): string }>('secrets.store', 'Secrets', '1.0.0');
    const refused: string[] = [];
    const sneaky = plugin('sneaky', (ctx) => ({
      start: () => {
        try {
          ctx.services.get(secrets);
        } catch (error) {
          refused.push((error as Error).message);
        }
      },
    }));
    const vault = plugin(
      'vault',
      (ctx) => {
        try {
          ctx.services.provide(createServiceRef('vault.extra', 'Extra', '1.0.0'), () => ({}));
        } catch (error) {
          refused.push((error as Error).message);
        }
        ctx.services.provide(secrets, () => ({ get: () => 'hunter2' }));
      },
      { provides: [secrets] },
    );
    await kernelFor(t, [vault, sneaky]).start();
    assert.deepEqual(refused, [
      'plugin "vault" provides service "vault.extra" without declaring it in its provides',
      'plugin "sneaky" uses service "secrets.store" (Secrets) without declaring it in its uses',
    ]);

    const idle = plugin('idle', () => undefined, { provides: [secrets] });
    await assert.rejects(kernelFor(t, [idle]).start(), { message: 'plugin "idle" failed to register: it declares service "secrets.store" in its provides but did not provide it' });
  });

  it('allows services, routes and migrations during register only, and the store from start on', async (t) => {
    const counter = createServiceRef<{ next(): Promise<number> }>('test.counter', 'Counts', '1.0.0');
    const misuse: string[] = [];
    let late!: PluginContext<unknown>;
    const kernel = kernelFor(t, [
      plugin(
        'counter',
        (ctx) => {
        assert.throws(() => ctx.store, /plugin "counter": the store opens after register/);
        ctx.migrations([{ version: 1, name: 'counter', up: 'CREATE TABLE counter (n INTEGER)' }]);
        ctx.services.provide(counter, () => ({
          next: async () => (await ctx.store.run('INSERT INTO counter (n) VALUES (1)')).lastID,
        }));
        late = ctx;
        },
        { provides: [counter] },
      ),
      plugin(
        'user',
        (ctx) => ({
          start: async () => {
            assert.equal(await ctx.services.get(counter).next(), 1);
            for (const attempt of [() => ctx.migrations([]), () => ctx.services.provide(counter, () => ({ next: async () => 0 }))]) {
              try {
                attempt();
              } catch (error) {
                misuse.push((error as Error).message);
              }
            }
          },
        }),
        { uses: [counter] },
      ),
    ]);
    await kernel.start();
    assert.deepEqual(misuse, ['plugin "user": migrations is only possible during register', 'plugin "user": services.provide is only possible during register']);
    assert.throws(() => late.api.handle(defineEndpoint({ method: 'GET', url: '/late', summary: '', tags: [], response: Type.Null() }), async () => null), {
      message: 'plugin "counter": api.handle is only possible during register',
    });
  });

  it('gives each plugin its validated config section, its logger and its hooks', async (t) => {
    let seen: unknown;
    const configured: AnyPlugin = {
      ...plugin('configured', (ctx) => {
        seen = ctx.config;
        ctx.log.info('registered');
      }),
      config: Type.Object({ retries: Type.Integer({ default: 3 }) }),
    };
    const kernel = kernelFor(t, [configured], { CODEPIPER_LOG_LEVEL: 'debug' });
    fs.writeFileSync(kernel.paths.config, 'configured: {}\n');
    await kernel.start();
    assert.deepEqual(seen, { retries: 3 });
    assert.ok(logLines(kernel).some((line) => line.plugin === 'configured' && line.msg === 'registered'));
  });
});

describe('kernel API', () => {
  const echo = defineEndpoint({
    method: 'POST',
    url: '/echo/:id',
    summary: 'Echo the request',
    tags: ['test'],
    params: Type.Object({ id: Type.Integer() }),
    query: Type.Object({ limit: Type.Optional(Type.Integer()), loud: Type.Optional(Type.Boolean()) }),
    body: Type.Object({ cwd: Type.String(), args: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
    response: Type.Object({ id: Type.Integer(), limit: Type.Optional(Type.Integer()), loud: Type.Optional(Type.Boolean()), cwd: Type.String(), origin: Type.String() }),
    status: 201,
  });
  const fail = defineEndpoint({
    method: 'GET',
    url: '/fail/:how',
    summary: 'Fail',
    tags: ['test'],
    params: Type.Object({ how: Type.String() }),
    response: Type.Null(),
  });
  const feed = defineSocketEndpoint({ url: '/feed/:id', summary: 'A feed', tags: ['test'], params: Type.Object({ id: Type.Integer() }) });
  const count = defineLinesEndpoint({
    url: '/count',
    summary: 'Numbers as JSON lines',
    tags: ['test'],
    query: Type.Object({ to: Type.Integer({ minimum: 0 }), breakAt: Type.Optional(Type.Integer()) }),
    line: Type.Object({ n: Type.Integer() }),
  });

  const api = plugin('api-test', (ctx) => {
    ctx.api.handle(echo, async ({ params, query, body, origin }) => ({ id: params.id, ...query, cwd: body.cwd, origin: origin.transport }));
    ctx.api.handle(fail, async ({ params }) => {
      if (params.how === 'known') throw new CodePiperError('import_running', 'the thing is busy', { retry: true });
      throw new Error('database password is hunter2');
    });
    ctx.api.handleLines(count, async ({ query }) => {
      if (query.breakAt === 0) throw new CodePiperError('import_running', 'counting is busy');
      return (async function* () {
        // Chunks of 1,000 lines of about 5 KB: many per response, each split across socket reads.
        for (let from = 1; from <= query.to; from += 1000) {
          if (query.breakAt !== undefined && from > query.breakAt) throw new Error('lost count');
          const to = Math.min(from + 999, query.to);
          yield Array.from({ length: to - from + 1 }, (_, i) => `{"n":${from + i}}\n`).join('');
        }
      })();
    });
    ctx.api.handleSocket(feed, (socket, { params }) => {
      socket.on('message', (data) => socket.send(`feed ${params.id}: ${String(data)}`));
    });
  });

  async function started(t: TestContext): Promise<Kernel> {
    const kernel = kernelFor(t, [api]);
    await kernel.start();
    return kernel;
  }

  it('serves an endpoint on a private socket in a private home, query coerced', async (t) => {
    const kernel = await started(t);
    assert.equal(modeOf(kernel.paths.socket), 0o600);
    assert.equal(modeOf(kernel.paths.home), 0o700);
    const response = await request(kernel.paths.socket, 'POST', '/echo/7?limit=5&loud=true', JSON.stringify({ cwd: '/tmp' }));
    assert.equal(response.status, 201);
    assert.deepEqual(response.json(), { id: 7, limit: 5, loud: true, cwd: '/tmp', origin: 'unix' });
  });

  it('answers invalid input with 400 naming the field, and does not coerce bodies', async (t) => {
    const { paths } = await started(t);
    const cases: [string, string, string][] = [
      ['/echo/7', JSON.stringify({ cwd: 42 }), '"cwd" must be text'],
      ['/echo/7', JSON.stringify({ cwd: '/', args: 'ls' }), '"args" must be a list'],
      ['/echo/7', JSON.stringify({ cwd: '/', args: ['ls', 3] }), '"args[1]" must be text'],
      ['/echo/7', JSON.stringify({ cwd: '/', colour: 'red' }), '"colour" is not a field of this request'],
      ['/echo/7', JSON.stringify({}), '"cwd" is required'],
      ['/echo/7', JSON.stringify([]), 'the request body must be an object'],
      ['/echo/seven', JSON.stringify({ cwd: '/' }), '"id" in the URL must be a whole number'],
      ['/echo/7?limit=many', JSON.stringify({ cwd: '/' }), 'query parameter "limit" must be a whole number'],
    ];
    for (const [url, body, message] of cases) {
      const response = await request(paths.socket, 'POST', url, body);
      assert.equal(response.status, 400, url);
      assert.deepEqual(response.json(), { error: { code: 'invalid_request', message } });
    }
  });

  it('answers every failure with a JSON error body', async (t) => {
    const { paths } = await started(t);
    const expect = async (method: string, url: string, body: string | undefined, status: number, code: string) => {
      const response = await request(paths.socket, method, url, body);
      assert.equal(response.status, status, `${method} ${url}`);
      assert.match(response.headers['content-type'] ?? '', /^application\/json/);
      const error = (response.json() as { error: { code: string; message: string; details?: unknown } }).error;
      assert.equal(error.code, code);
      return error;
    };
    assert.equal((await expect('GET', '/nowhere', undefined, 404, 'not_found')).message, 'no route for GET /nowhere');
    await expect('POST', '/echo/1', '{"cwd": ', 400, 'invalid_json');
    await expect('POST', '/echo/1', JSON.stringify({ cwd: 'x'.repeat(1024 * 1024) }), 413, 'payload_too_large');
    assert.deepEqual(await expect('GET', '/fail/known', undefined, 409, 'import_running'), { code: 'import_running', message: 'the thing is busy', details: { retry: true } });
    const internal = await expect('GET', '/fail/crash', undefined, 500, 'internal_error');
    assert.doesNotMatch(internal.message, /hunter2/);
  });

  it('describes its routes at /openapi.json', async (t) => {
    const { paths } = await started(t);
    const document = (await request(paths.socket, 'GET', '/openapi.json')).json() as { openapi: string; paths: Record<string, unknown> };
    assert.match(document.openapi, /^3\./);
    for (const route of ['/echo/{id}', '/fail/{how}', '/health', '/daemon/status', '/daemon/stop']) assert.ok(route in document.paths, route);
  });

  it('validates WebSocket parameters before upgrading', async (t) => {
    const { paths } = await started(t);
    const client = new ApiClient({ socketPath: paths.socket });
    const socket = await client.openSocket(feed, { params: { id: 3 } });
    const reply = new Promise<unknown[]>((resolve) => socket.once('message', (...args) => resolve(args)));
    socket.send('hello');
    assert.equal(String((await reply)[0]), 'feed 3: hello');
    socket.close();
    await assert.rejects(client.openSocket(feed, { params: { id: 'three' as unknown as number } }), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_request');
      return true;
    });
  });

  it('streams a JSON-lines endpoint in whole lines, and says so when it fails early or is cut short', async (t) => {
    const { paths } = await started(t);
    const client = new ApiClient({ socketPath: paths.socket });
    const numbers: number[] = [];
    for await (const chunk of client.lines(count, { query: { to: 25_000 } })) {
      assert.equal(chunk.at(-1), 0x0a, 'every chunk ends a line');
      for (const line of chunk.toString('utf8').trimEnd().split('\n')) numbers.push((JSON.parse(line) as { n: number }).n);
    }
    assert.deepEqual(numbers, Array.from({ length: 25_000 }, (_, i) => i + 1));

    const drain = async (query: { to: number; breakAt?: number }): Promise<void> => {
      for await (const chunk of client.lines(count, { query })) assert.ok(chunk.length > 0);
    };
    await assert.rejects(drain({ to: -1 }), (error: unknown) => error instanceof ApiError && error.status === 400 && /query parameter "to" must be at least 0/.test(error.message));
    await assert.rejects(drain({ to: 10, breakAt: 0 }), (error: unknown) => error instanceof ApiError && error.status === 409 && error.code === 'import_running');
    // A failure after the first lines cannot change the status any more: the client must not take the part for the whole.
    await assert.rejects(drain({ to: 25_000, breakAt: 5_000 }), { message: "the daemon's answer to /count was cut short (aborted)" });

    const document = (await request(paths.socket, 'GET', '/openapi.json')).json() as { paths: Record<string, { get: { responses: Record<string, { content: object }> } }> };
    assert.deepEqual(Object.keys(document.paths['/count']!.get.responses['200']!.content), ['application/x-ndjson']);
  });

  it('reports its status and stops when asked over the API', async (t) => {
    const kernel = await started(t);
    const client = new ApiClient({ socketPath: kernel.paths.socket });
    const { daemonEndpoints } = await import('@codepiper/sdk');
    assert.deepEqual(await client.call(daemonEndpoints.health), { ok: true, version: '0.1.0' });
    const status = await client.call(daemonEndpoints.status);
    assert.equal(status.pid, process.pid);
    assert.deepEqual(status.plugins, [{ name: 'api-test', api: '^1.0.0' }]);
    assert.equal(status.pluginApi, PLUGIN_API_VERSION);
    assert.deepEqual(await client.call(daemonEndpoints.stop), { ok: true });
    assert.equal(await kernel.stopped, 'asked over the API');
  });

  it('refuses to start beside a running daemon, and replaces a stale socket', async (t) => {
    const first = await started(t);
    const second = createKernel({ plugins: [], env: { CODEPIPER_HOME: first.paths.home } });
    await assert.rejects(second.start(), { message: `a daemon is already running (pid ${process.pid}), listening on ${first.paths.socket}` });
    assert.ok(fs.existsSync(first.paths.pidFile), 'the running daemon keeps its pid file');
    await first.stop('test');

    // A listener killed outright leaves its socket file behind, as a crashed daemon does.
    const listener = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(first.paths.socket)}, () => console.log('up'))`]);
    await once(listener.stdout, 'data');
    listener.kill('SIGKILL');
    await once(listener, 'exit');
    assert.ok(fs.existsSync(first.paths.socket));
    const third = createKernel({ plugins: [], env: { CODEPIPER_HOME: first.paths.home } });
    await third.start();
    await third.stop('test');
  });
});

describe('kernel TCP listener', () => {
  const open = defineEndpoint({ method: 'GET', url: '/open', summary: 'Public', tags: ['test'], access: 'public', response: Type.Object({ ok: Type.Boolean() }) });
  const guarded = defineEndpoint({ method: 'POST', url: '/guarded', summary: 'Needs a session', tags: ['test'], response: Type.Object({ who: Type.String() }) });
  const local = defineEndpoint({ method: 'GET', url: '/local', summary: 'Local only', tags: ['test'], access: 'local', response: Type.Object({ ok: Type.Boolean() }) });
  const routes = plugin('routes', (ctx) => {
    ctx.api.handle(open, async () => ({ ok: true }));
    ctx.api.handle(guarded, async ({ origin }) => ({ who: `${origin.transport}:${origin.address}` }));
    ctx.api.handle(local, async () => ({ ok: true }));
  });
  /** Lets in requests carrying `x-test-key: open-sesame`, and answers nothing about the others. */
  const authenticator = plugin('authenticator', (ctx) => {
    ctx.hooks.tap(httpAuthenticate, ({ headers }) => (headers['x-test-key'] === 'open-sesame' ? { allow: true as const, principal: 'tester' } : undefined));
  });

  async function listening(t: TestContext, plugins: AnyPlugin[]): Promise<{ kernel: Kernel; url: string }> {
    const kernel = createKernel({ plugins, env: { CODEPIPER_HOME: tempDir(t) }, web: { port: 0 } });
    t.after(() => kernel.stop('test over'));
    await kernel.start();
    assert.ok(kernel.web);
    return { kernel, url: kernel.web };
  }

  const call = async (url: string, method: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { method, headers: { origin: new URL(url).origin, ...headers } });
    return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
  };

  it('fails closed without an authenticator: 401 over TCP, while the socket needs no login', async (t) => {
    const { kernel, url } = await listening(t, [routes]);
    assert.deepEqual(await call(`${url}/guarded`, 'POST'), { status: 401, body: { error: { code: 'unauthenticated', message: 'sign in first' } } });
    assert.equal((await call(`${url}/open`, 'GET')).status, 200);
    assert.equal((await call(`${url}/nowhere`, 'GET')).status, 401);
    assert.equal((await request(kernel.paths.socket, 'POST', '/guarded')).status, 200);
  });

  it('lets an authenticator decide, refuses local-only routes and foreign origins', async (t) => {
    const { url } = await listening(t, [routes, authenticator]);
    assert.equal((await call(`${url}/guarded`, 'POST')).status, 401, 'no verdict: refused');
    const allowed = await call(`${url}/guarded`, 'POST', { 'x-test-key': 'open-sesame' });
    assert.deepEqual(allowed, { status: 200, body: { who: 'tcp:127.0.0.1' } });
    assert.equal((await call(`${url}/guarded`, 'POST', { 'x-test-key': 'open-sesame', origin: 'http://evil.example' })).body.error?.code, 'cross_origin');
    assert.equal((await call(`${url}/local`, 'GET', { 'x-test-key': 'open-sesame' })).body.error?.code, 'local_only');
  });
});

describe('kernel Unix socket: control-plane endpoints', () => {
  const control = defineEndpoint({ method: 'POST', url: '/control', summary: 'Changes what governs agents', tags: ['test'], control: true, response: Type.Object({ ok: Type.Boolean() }) });
  const plain = defineEndpoint({ method: 'POST', url: '/plain', summary: 'Anything else', tags: ['test'], response: Type.Object({ ok: Type.Boolean() }) });

  /** Serves both endpoints, counting the calls that reached a handler, and refuses control requests from `refused` pids. */
  function guarded(asked: LocalControlRequest[], served: string[], refused: (pids: readonly number[]) => boolean): AnyPlugin {
    return plugin('guarded', (ctx) => {
      ctx.api.handle(control, async () => (served.push('control'), { ok: true }));
      ctx.api.handle(plain, async () => (served.push('plain'), { ok: true }));
      ctx.hooks.tap(localControlRequest, (request) => {
        asked.push(request);
        return refused(request.peerPids) ? { code: 'inside_session', message: 'not from in there' } : undefined;
      });
    });
  }

  it('asks the hook with the pids of the sending process; a refusal is a 403 and nothing is served', async (t) => {
    const asked: LocalControlRequest[] = [];
    const served: string[] = [];
    let refuse = false;
    const kernel = kernelFor(t, [guarded(asked, served, () => refuse)]);
    await kernel.start();
    assert.equal((await request(kernel.paths.socket, 'POST', '/plain')).status, 200);
    assert.equal(asked.length, 0, 'other endpoints are not asked about');
    assert.equal((await request(kernel.paths.socket, 'POST', '/control')).status, 200);
    assert.deepEqual(asked.map((r) => [r.method, r.route, r.peerPids.includes(process.pid)]), [['POST', '/control', true]], 'this test process sent it');
    refuse = true;
    const refused = await request(kernel.paths.socket, 'POST', '/control');
    assert.deepEqual([refused.status, refused.json()], [403, { error: { code: 'inside_session', message: 'not from in there' } }]);
    assert.deepEqual(served, ['plain', 'control']);
  });

  it('a control request whose sender is gone before it is judged is not served', async (t) => {
    const asked: LocalControlRequest[] = [];
    const served: string[] = [];
    const kernel = kernelFor(t, [guarded(asked, served, () => false)]);
    await kernel.start();
    for (let i = 0; i < 10; i++) {
      const socket = net.connect(kernel.paths.socket);
      await once(socket, 'connect');
      socket.end('POST /control HTTP/1.1\r\nHost: codepiper\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    }
    assert.equal((await request(kernel.paths.socket, 'POST', '/plain')).status, 200);
    assert.deepEqual(
      served.filter((s) => s === 'control'),
      Array(asked.length).fill('control'),
      'served only what the hook was asked about, with a known sender',
    );
    assert.ok(asked.every((r) => r.peerPids.length > 0));
  });
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { daemonEndpoints, ERROR_CODES } from '@codepiper/sdk';
import { listProcesses, processEnvironment } from '@codepiper/sdk/testing';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { claudeBin } from './agents/claude.js';
import { removeHome, runCli, tempHome, TestDaemon, waitFor, type CliResult } from './harness.js';

/** A raw request over the daemon's socket, to check what any client would get. */
function raw(socketPath: string, method: string, url: string, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: url, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the daemon', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await TestDaemon.start();
  });
  after(() => daemon.dispose());

  test('keeps its home private: directory 0700, socket 0600', () => {
    assert.equal(statSync(daemon.home).mode & 0o777, 0o700);
    assert.equal(statSync(daemon.socketPath).mode & 0o777, 0o600);
    assert.ok(statSync(path.join(daemon.home, 'codepiper.db')).isFile());
  });

  test('answers errors as JSON with a code and a message', async () => {
    const missing = await raw(daemon.socketPath, 'GET', '/no/such/route');
    assert.equal(missing.status, 404);
    assert.equal((missing.json as { error: { code: string } }).error.code, 'not_found');

    const invalid = await raw(daemon.socketPath, 'POST', '/sessions', JSON.stringify({ provider: 'shell', cwd: 42 }));
    assert.equal(invalid.status, 400);
    const error = (invalid.json as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, /cwd/);

    const malformed = await raw(daemon.socketPath, 'POST', '/sessions', '{"provider":');
    assert.equal(malformed.status, 400);
    assert.equal((malformed.json as { error: { code: string } }).error.code, 'invalid_json');
  });

  test('publishes an OpenAPI document generated from the schemas', async () => {
    const doc = (await raw(daemon.socketPath, 'GET', '/openapi.json')).json as OpenApiDocument;
    assert.match(doc.openapi, /^3\./);
    for (const route of ['/sessions', '/sessions/{id}', '/sessions/{id}/input', '/events', '/health']) {
      assert.ok(doc.paths[route], `${route} is documented`);
    }
    // Every error code, once, with its status and meaning.
    for (const [code, { status, meaning }] of Object.entries(ERROR_CODES)) {
      assert.ok(doc.info.description.includes(`| \`${code}\` | ${status} | ${meaning} |`), `${code} is described`);
    }
    // The daemon does not check its schemas against the meta-schema as it compiles them (a cost of its first requests): this does.
    const ajv = new Ajv({ strict: false });
    const schemas = documentedSchemas(doc);
    assert.ok(schemas.length > 100, `the document holds the schemas of every plugin (${schemas.length})`);
    for (const [where, schema] of schemas) assert.ok(ajv.validateSchema(schema), `${where}: ${ajv.errorsText(ajv.errors)}`);
  });

  test('status and doctor report on it', async () => {
    const status = await daemon.cli(['daemon', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { pid: number; plugins: { name: string }[]; problems: unknown[] };
    assert.equal(parsed.pid, daemon.process?.pid);
    assert.deepEqual(parsed.problems, [], 'nothing is wrong');
    const names = parsed.plugins.map((p) => p.name);
    for (const required of ['events', 'sessions', 'provider-shell']) assert.ok(names.includes(required), `${required} is loaded`);
    assert.ok(names.indexOf('events') < names.indexOf('sessions') && names.indexOf('sessions') < names.indexOf('provider-shell'), 'in dependency order');

    const doctor = await daemon.cli(['doctor']);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, /tmux/);
    assert.match(doctor.stdout, /daemon/);
  });

  test('doctor shows the agent CLIs as the daemon finds them; a start that cannot find one says how to point at it', async () => {
    const other = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin, CODEPIPER_CODEX_BIN: '/nonexistent/codex' });
    try {
      const doctor = await other.cli(['doctor', '--json'], { env: { CODEPIPER_CLAUDE_BIN: '', CODEPIPER_CODEX_BIN: '' } });
      const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; level: string; detail: string; hint?: string }[] }).checks;
      const check = (name: string) => checks.find((c) => c.name === name);
      assert.deepEqual([check('claude-code')?.level, check('claude-code')?.detail], ['ok', `${claudeBin} (as the daemon finds it)`]);
      assert.equal(check('codex')?.level, 'warn');
      assert.match(check('codex')?.detail ?? '', /the daemon does not find "\/nonexistent\/codex"/);
      assert.match(check('codex')?.hint ?? '', /CODEPIPER_CODEX_BIN=\/path\/to\/codex/);

      const start = await other.cli(['start', '-p', 'codex', '-d', '/tmp']);
      assert.equal(start.code, 1);
      assert.match(start.stderr, /command not found: "\/nonexistent\/codex"; install Codex \(npm i -g @openai\/codex\), or point at it with CODEPIPER_CODEX_BIN/);
    } finally {
      await other.dispose();
    }
  });

  test('a second daemon on the same home refuses to start', async () => {
    const second = await runCli(['daemon'], { env: daemon.env, timeoutMs: 10_000 });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /already running/);
  });
});

describe('daemon restart', () => {
  test('a new daemon on the same socket and TCP port (even one picked with --port 0) adopts the running sessions', { timeout: 120_000 }, async () => {
    const daemon = new TestDaemon(undefined, {}, ['--web', '--port', '0']);
    try {
      await daemon.start();
      const before = await daemon.client.call(daemonEndpoints.status);
      const shell = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: daemon.home, name: 'survivor' } });
      await daemon.client.call(sessionEndpoints.input, { params: { id: shell.id }, body: { text: 'echo before-$((20+1))' } });
      await waitFor('the first output', async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: shell.id } })).text.includes('before-21'));

      let restarted: CliResult | undefined;
      const pid = await daemon.restartBy(async () => (restarted = await daemon.cli(['daemon', 'restart'])));
      assert.equal(restarted?.code, 0, restarted?.stderr);
      assert.equal(restarted?.stdout, `daemon restarted (pid ${pid}), socket ${daemon.socketPath}, web ${before.web}\n`);
      assert.notEqual(pid, before.pid);
      assert.equal((await daemon.client.call(daemonEndpoints.status)).web, before.web, 'the dashboard finds it where it was');

      const kept = await daemon.client.call(sessionEndpoints.show, { params: { id: shell.id } });
      assert.equal(kept.status, 'running', 'the session was adopted, not ended');
      await daemon.client.call(sessionEndpoints.input, { params: { id: shell.id }, body: { text: 'echo after-$((20+2))' } });
      const screen = await waitFor('the output after the restart', async () => {
        const { text } = await daemon.client.call(sessionEndpoints.screen, { params: { id: shell.id } });
        return text.includes('after-22') && text;
      });
      assert.match(screen, /before-21/, 'the same shell, its screen kept');
      assert.match(readFileSync(path.join(daemon.home, 'logs', 'daemon.out'), 'utf8'), new RegExp(`listening on .* \\(pid ${pid}\\)`));
    } finally {
      await daemon.dispose();
    }
  });

  test('with no daemon running it says so; run by the login service it exits 75 for the service to start it again', { timeout: 60_000 }, async () => {
    const home = tempHome();
    try {
      const none = await runCli(['daemon', 'restart'], { env: { ...process.env, CODEPIPER_HOME: home } });
      assert.equal(none.code, 3);
      assert.match(none.stdout, /daemon: not running/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    const supervised = new TestDaemon(undefined, { CODEPIPER_SUPERVISED: '1' });
    try {
      await supervised.start();
      const child = supervised.process!;
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      supervised.process = undefined;
      assert.equal((await raw(supervised.socketPath, 'POST', '/daemon/restart')).status, 202);
      assert.equal(await exited, 75);
      assert.match(supervised.output, /restarting \(the login service starts it again\)/);
      assert.equal(await supervised.cli(['daemon', 'status']).then((r) => r.code), 3, 'no replacement of its own');
    } finally {
      await supervised.dispose();
    }
  });
});

describe('a foreground daemon whose terminal goes away', () => {
  test('keeps serving, stops cleanly, and does not fill its log with failed writes', { timeout: 30_000 }, async () => {
    const daemon = new TestDaemon();
    try {
      await daemon.start();
      // The terminal closes: nothing reads the daemon's stdout and stderr any more.
      daemon.process?.stdout?.destroy();
      daemon.process?.stderr?.destroy();
      const exited = new Promise<number | null>((resolve) => daemon.process?.once('exit', resolve));
      const stop = await daemon.cli(['daemon', 'stop']);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(await exited, 0);
      const log = readFileSync(path.join(daemon.home, 'logs', 'daemon.log'), 'utf8');
      assert.doesNotMatch(log, /EPIPE/);
      assert.match(log, /daemon stopped/);
    } finally {
      await daemon.dispose();
    }
  });
});

describe('the CLI without a daemon', () => {
  test('says how to start one', async () => {
    const home = tempHome();
    try {
      const result = await runCli(['sessions'], { env: { ...process.env, CODEPIPER_HOME: home } });
      assert.equal(result.code, 3);
      assert.match(result.stderr, /daemon is not running/);
      assert.match(result.stderr, /codepiper daemon --detach/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('daemon --detach starts one in the background; daemon stop stops it', async () => {
    const home = tempHome();
    const env = { ...process.env, CODEPIPER_HOME: home };
    try {
      const started = await runCli(['daemon', '--detach'], { env });
      assert.equal(started.code, 0, started.stderr);
      const pid = Number(/daemon started \(pid (\d+)\)/.exec(started.stdout)?.[1]);
      assert.ok(pid > 0, started.stdout);
      assert.equal((await runCli(['daemon', 'status'], { env })).code, 0);
      // Started with its malloc setting, which the programs it starts (tmux first) do not inherit.
      assert.ok(processEnvironment(pid).includes('MALLOC_TRIM_THRESHOLD_=131072'));
      const children = listProcesses().filter((p) => p.parent === pid);
      assert.ok(children.length > 0, 'the daemon runs its tmux clients');
      for (const child of children) assert.doesNotMatch(processEnvironment(child.pid).join('\n'), /MALLOC_TRIM_THRESHOLD_/, `child ${child.pid}: ${child.command}`);
      const stopped = await runCli(['daemon', 'stop'], { env });
      assert.equal(stopped.code, 0, stopped.stderr);
      await waitFor('the daemon to be gone', async () => (await runCli(['daemon', 'status'], { env })).code === 3);
    } finally {
      await removeHome(home);
    }
  });

  test('a start that cannot be: one line saying why and a non-zero exit, no stack (a port in use, a missing TLS file); of two at once, one starts', async () => {
    const home = tempHome();
    const env = { ...process.env, CODEPIPER_HOME: home };
    const busy = net.createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as net.AddressInfo).port;
    const oneLine = (result: CliResult, reason: RegExp): void => {
      assert.equal(result.code, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack');
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^codepiper: the daemon did not start: /);
      assert.match(result.stderr, reason);
    };
    try {
      // Two at once: one starts the daemon. The other lost the race to start one (a refusal), or its first check came
      // after the winner's daemon answered, and it says that one is running. (The lock itself: core/src/daemon.test.ts.)
      const pair = await Promise.all([runCli(['daemon', '--detach'], { env }), runCli(['daemon', '--detach'], { env })]);
      const started = pair.filter((r) => r.code === 0 && /^daemon started \(pid \d+\)/.test(r.stdout));
      assert.equal(started.length, 1, `one of two starts the daemon: ${JSON.stringify(pair)}`);
      const winner = /pid (\d+)/.exec(started[0]!.stdout)![1];
      const other = pair.find((r) => r !== started[0])!;
      if (other.code === 0) assert.match(other.stdout, new RegExp(`^daemon already running \\(pid ${winner}\\)`));
      else oneLine(other, /another daemon is starting on|a daemon is already running \(pid \d+\)/);
      await runCli(['daemon', 'stop'], { env });

      oneLine(await runCli(['daemon', '--detach', '--web', '--port', String(port)], { env }), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use by another program; choose another with --port`));
      oneLine(await runCli(['daemon', '--detach', '--web', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], { env }), /cannot read the TLS certificate \/nonexistent\/cert\.pem/);
    } finally {
      busy.close();
      await removeHome(home);
    }
  });

  test('daemon install writes a systemd user unit that systemd accepts, and loads it; uninstall unloads and removes it', async () => {
    const home = tempHome();
    const user = mkdtempSync('/tmp/cpt-user-');
    // A stand-in systemctl: on a developer's machine the real one would start a service.
    const bin = path.join(user, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${path.join(user, 'systemctl.log')}\n`, { mode: 0o755 });
    const env = { ...process.env, CODEPIPER_HOME: home, HOME: user, XDG_CONFIG_HOME: path.join(user, 'config'), PATH: `${bin}:${process.env.PATH}` };
    const unit = path.join(user, 'config', 'systemd', 'user', 'codepiper.service');
    try {
      const installed = await runCli(['daemon', 'install', '--web', '--port', '4399'], { env });
      assert.equal(installed.code, 0, installed.stderr);
      assert.equal(installed.stdout, `wrote ${unit}\nit starts now and at every login, and again if it fails\n`);
      const text = readFileSync(unit, 'utf8');
      assert.match(text, new RegExp(`^ExecStart=${process.execPath} \\S+/codepiper\\.cjs daemon --web --port 4399$`, 'm'));
      assert.match(text, new RegExp(`^Environment=CODEPIPER_HOME=${home}$`, 'm'));
      assert.match(text, /^Environment=MALLOC_TRIM_THRESHOLD_=131072$/m);
      assert.match(text, /^KillMode=process$/m, 'stopping the service leaves the sessions running');
      assert.match(text, /^Restart=on-failure$/m);
      const verified = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal(verified.stderr, '', 'systemd has nothing to say about the unit');

      const removed = await runCli(['daemon', 'uninstall'], { env });
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(existsSync(unit), false);
      assert.deepEqual(readFileSync(path.join(user, 'systemctl.log'), 'utf8').trim().split('\n'), ['--user daemon-reload', '--user enable --now codepiper.service', '--user disable --now codepiper.service']);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(user, { recursive: true, force: true });
    }
  });

  test('an invalid config file fails start-up naming the file, the key and what was expected', async () => {
    const home = tempHome();
    try {
      writeFileSync(path.join(home, 'config.yaml'), 'sessions:\n  stop_timeout_ms: soon\n');
      const result = await runCli(['daemon'], { env: { ...process.env, CODEPIPER_HOME: home } });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /config\.yaml:2:\d+/);
      assert.match(result.stderr, /sessions\.stop_timeout_ms/);
      assert.match(result.stderr, /integer/i);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  // Such values once started a daemon whose sign-in failed (a date past year 275760),
  // whose Codex launches timed out at once (a timer past 2^31 ms) or whose event pruning failed hourly.
  test('a duration too long to use fails start-up naming the key and its limit', async () => {
    const home = tempHome();
    try {
      for (const [section, key, value] of [
        ['auth', 'session_max_s', 10 ** 13],
        ['provider-codex', 'thread_discovery_timeout_ms', 2 ** 32],
        ['events', 'keep_days', 10 ** 9],
      ] as const) {
        writeFileSync(path.join(home, 'config.yaml'), `${section}:\n  ${key}: ${value}\n`);
        const result = await runCli(['daemon'], { env: { ...process.env, CODEPIPER_HOME: home } });
        assert.notEqual(result.code, 0, `${section}.${key}: ${value} was taken`);
        assert.match(result.stderr, new RegExp(`${section}\\.${key}.*(less|<=|maximum).*\\d`, 'i'));
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('refuses to start in a home others can write to, saying which directory and how to fix it, before starting anything', async () => {
    const home = tempHome();
    const env = { ...process.env, CODEPIPER_HOME: home };
    const refuses = async (dir: string): Promise<void> => {
      const result = await runCli(['daemon'], { env });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`^codepiper daemon: ${dir} is writable by its group and others \\(mode 0777\\).*: chmod 700 ${dir}$`, 'm'));
      for (const made of ['daemon.sock', 'codepiper.db', 'plugins']) assert.equal(existsSync(path.join(home, made)), false, `no ${made}`);
    };
    try {
      chmodSync(home, 0o777);
      await refuses(home);
      chmodSync(home, 0o700);
      const logs = path.join(home, 'logs');
      mkdirSync(logs);
      chmodSync(logs, 0o777);
      await refuses(logs);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

interface OpenApiOperation {
  parameters?: { name: string; schema?: object }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, object> };
}

/** Every schema an OpenAPI document holds, with where it is: parameters, bodies, responses and shared components. */
function documentedSchemas(doc: OpenApiDocument): [string, object][] {
  const found: [string, object][] = Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) => [`component ${name}`, schema]);
  for (const [route, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const at = `${method.toUpperCase()} ${route}`;
      for (const parameter of operation.parameters ?? []) if (parameter.schema) found.push([`${at} parameter ${parameter.name}`, parameter.schema]);
      for (const [type, { schema }] of Object.entries(operation.requestBody?.content ?? {})) if (schema) found.push([`${at} body (${type})`, schema]);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, { schema }] of Object.entries(response.content ?? {})) if (schema) found.push([`${at} ${status} (${type})`, schema]);
      }
    }
  }
  return found;
}

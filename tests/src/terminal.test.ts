import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { cliPath, suiteDaemon, waitFor } from './harness.js';
import { readTerminal } from './terminal-client.js';

describe('the terminal stream', () => {
  const suite = suiteDaemon();

  const start = async (...argv: string[]): Promise<SessionRecord> =>
    suite.daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: suite.workdir, args: argv } });

  test('sends the current screen first, then every byte as printed, and takes input', async () => {
    const session = await start('cat');
    await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'before watching' } });
    await waitFor('the echo', async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.includes('before watching'));

    const reader = readTerminal(suite.daemon.client, session.id);
    const stream = await reader.ready;
    const snapshot = await reader.until((t) => t.includes('before watching'));
    assert.ok(snapshot.indexOf('\x1b[H\x1b[2J') < snapshot.indexOf('before watching'), 'the snapshot clears the screen, then redraws it');

    stream.socket.send(JSON.stringify({ type: 'input', data: 'typed live\r' }));
    await reader.until((t) => t.split('typed live').length === 3);
    stream.type('raw bytes\r');
    await reader.until((t) => t.split('raw bytes').length === 3);

    stream.resize(100, 30);
    await waitFor('the resize', async () => {
      const screen = await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } });
      return screen.cols === 100 && screen.rows === 30;
    });
    reader.close();
  });

  test('the first screen is drawn at the viewer’s size, after the scrollback that came before it', async () => {
    // A wide line printed at the session's own 200 columns, then many: a phone's 40 columns must not get them wrapped into a garble.
    const session = await start('sh', '-c', `printf '%s\\n' ${'W'.repeat(150)}; seq -f 'row-%g' 1 300; read end`);
    await waitFor('the output', async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.includes('row-300'));
    const reader = readTerminal(suite.daemon.client, session.id, { size: { cols: 40, rows: 12 } });
    const stream = await reader.ready;
    assert.deepEqual(stream.size, { cols: 40, rows: 12 }, 'the session took the viewer’s size first');
    const first = await reader.until((t) => t.includes('row-300'));
    const lines = first.slice(first.indexOf('\x1b[2J') + 4).split('\r\n').map((line) => line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')); // eslint-disable-line no-control-regex
    assert.ok(lines.every((line) => line.length <= 40), `a line wider than the viewer: ${lines.find((line) => line.length > 40)}`);
    assert.ok(lines.includes('row-1'), 'the scrollback from before the connection comes first');
    assert.equal(lines.filter((line) => /^W+$/.test(line)).join(''), 'W'.repeat(150), 'the wide line, rewrapped at 40 columns');
    reader.close();
  });

  test('messages a client sends together with the upgrade itself are all handled, in order', async () => {
    const session = await start('cat');
    // One write holds the upgrade and three frames: they reach the daemon before it has looked the session up.
    const frames = [{ type: 'resize', cols: 91, rows: 27 }, { type: 'input', data: 'first ' }, { type: 'input', data: 'second\r' }].map((m) => maskedTextFrame(JSON.stringify(m)));
    const upgrade = [
      `GET /sessions/${session.id}/terminal?snapshot=false HTTP/1.1`,
      'Host: localhost',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n');
    const raw = connect(suite.daemon.socketPath);
    raw.write(Buffer.concat([Buffer.from(upgrade), ...frames]));
    await waitFor('the resize sent with the upgrade', async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).cols === 91);
    await waitFor('the input sent with the upgrade, in order', async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.includes('first second'));
    raw.destroy();
  });

  test('streams large output intact and in order', async () => {
    const session = await start('sh', '-c', 'read go; seq 1 200000; read end');
    const reader = readTerminal(suite.daemon.client, session.id, { snapshot: false });
    await reader.ready;
    await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
    const text = await reader.until((t) => t.includes('\r\n200000\r\n'), 30_000);
    const numbers = text.split('\r\n').filter((l) => /^\d+$/.test(l)).map(Number);
    assert.equal(numbers.length, 200000);
    assert.ok(numbers.every((n, i) => n === i + 1), 'every line arrives once, in order');
    reader.close();
  });

  test('tail -f prints every byte up to the exit, though the program ends the moment it has printed', async () => {
    // tmux drops control-mode output still queued when a pane's program exits: that happened in 4 of 8 runs.
    // The short pause is for Linux: when a session leader exits, the kernel discards pty output tmux has not read yet.
    const runs = Array.from({ length: 8 }, async () => {
      const session = await start('sh', '-c', 'printf "ready\\n"; read go; seq 1 20000; printf "the last line"; sleep 0.2');
      await waitFor('the prompt', async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.includes('ready'));
      const tail = spawn(process.execPath, [cliPath, 'tail', session.id, '-f', '-n', '5'], { env: suite.daemon.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      tail.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      tail.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = new Promise<number | null>((resolve) => tail.once('close', resolve));
      // The last lines come first, from the stream that then goes on.
      await waitFor('tail -f to start', () => stdout.includes('ready'), 30_000);
      await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
      assert.equal(await code, 0, stderr);
      return stdout;
    });
    for (const stdout of await Promise.all(runs)) {
      const numbers = stdout.split('\r\n').filter((l) => /^\d+$/.test(l)).map(Number);
      const breaks = numbers.flatMap((n, i) => (n === i + 1 ? [] : [i])).slice(0, 1);
      const around = breaks.map((i) => JSON.stringify(numbers.slice(Math.max(0, i - 3), i + 4)));
      assert.deepEqual(numbers, Array.from({ length: 20000 }, (_, i) => i + 1), `every line once, in order; ${numbers.length} lines, first break near ${around.join(' ') || 'the end'}`);
      assert.ok(stdout.startsWith('ready\r\ngo\r\n1\r\n'), `the last lines, then the stream from the cursor: ${JSON.stringify(stdout.slice(0, 40))}`);
      assert.ok(stdout.endsWith('\r\nthe last line'), `the last line too: ${JSON.stringify(stdout.slice(-40))}`);
    }
  });

  test('a finished session’s stream shows its last screen and closes; an unknown session closes with 4404', async () => {
    const session = await start('sh', '-c', 'echo last words; sleep 0.5; exit 0');
    await waitFor('the end', async () => (await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'exited');
    const reader = readTerminal(suite.daemon.client, session.id);
    assert.equal(await reader.closed, 1000);
    assert.match(reader.text(), /last words/);

    assert.equal(await readTerminal(suite.daemon.client, 'ffffffff').closed, 4404);
  });

  test('a lines count that is not a whole number from 1 to 100,000 is refused before the stream opens', async () => {
    const session = await start('cat');
    const refusals: [unknown, RegExp][] = [
      [0, /"lines" must be at least 1/],
      [1.5, /query parameter "lines" must be a whole number/],
      ['1;kill-server', /query parameter "lines" must be a whole number/],
      [100_001, /"lines" must be at most 100000/],
    ];
    for (const [lines, message] of refusals) {
      await assert.rejects(
        suite.daemon.client.openSocket(sessionEndpoints.terminal, { params: { id: session.id }, query: { lines: lines as number } }),
        (error: { status?: number; message: string }) => error.status === 400 && message.test(error.message),
        `lines=${String(lines)}`,
      );
    }
    assert.equal((await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status, 'running');
  });
});

/** A client's text frame (RFC 6455: clients mask what they send). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  assert.ok(payload.length < 126, 'a short frame');
  const mask = randomBytes(4);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

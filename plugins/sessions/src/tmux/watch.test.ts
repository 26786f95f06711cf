import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import headless from '@xterm/headless';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type TestServer } from './testing.js';

const numbers = (text: string): number[] => [...text.matchAll(/n (\d+)$/gm)].map((m) => Number(m[1]));

/** What a terminal of `cols` × `rows` shows once it has been given `output`: its lines (scrollback first), and where its cursor is. */
async function rendered(output: Buffer, cols: number, rows: number): Promise<{ lines: string[]; cursor: { row: number; col: number } }> {
  const terminal = new headless.Terminal({ cols, rows, scrollback: 10_000, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(output, resolve));
  const buffer = terminal.buffer.active;
  const lines = Array.from({ length: buffer.length }, (_, i) => buffer.getLine(i)?.translateToString(true) ?? '');
  const cursor = { row: buffer.baseY + buffer.cursorY, col: buffer.cursorX };
  terminal.dispose();
  return { lines, cursor };
}

interface Recorder {
  chunks: Buffer[];
  ended: string | undefined;
  text(): string;
  stop: () => void;
}

describe('watching a session (real tmux)', () => {
  let t: TestServer;
  let n = 0;
  const name = (): string => `cp-watch-${++n}`;
  const clientsOf = async (session: string): Promise<string[]> =>
    (await t.tmux('list-clients', '-F', '#{client_pid} #{client_session} #{client_flags}')).split('\n').filter((l) => l.split(' ')[1] === session);
  const record = (session: string, snapshot: boolean | { lines: number } = true): Recorder => {
    const recorder: Recorder = {
      chunks: [],
      ended: undefined,
      text: () => Buffer.concat(recorder.chunks).toString('utf8'),
      stop: () => undefined,
    };
    recorder.stop = t.server.watch(session, {
      snapshot,
      onData: (data) => recorder.chunks.push(Buffer.from(data)),
      onEnd: (reason) => {
        recorder.ended = reason;
      },
    });
    return recorder;
  };

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.cleanup();
  });

  it('gives the snapshot first, then every byte once, in order; watchers share one client', async () => {
    const session = await t.server.createSession({
      name: name(),
      cwd: t.dir,
      // The number and its line end are written apart, so snapshots fall mid-line too.
      argv: ['sh', '-c', 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); printf "n %s" $i; sleep 0.005; printf "\\n"; done; sleep 100'],
      cols: 40,
      rows: 10,
    });
    assert.deepEqual(await clientsOf(session.name), [], 'nobody watches: no client');
    await waitFor('output', async () => (await t.server.capture(session.paneId)).includes('n 30'));

    const first = record(session.name);
    await waitFor('numbers after the snapshot', () => first.chunks.length > 3);
    const second = record(session.name);
    // 400 `sleep` processes: on a loaded machine that alone can take tens of seconds.
    await waitFor('the end of the count', () => first.text().includes('n 400\r\n') && second.text().includes('n 400\r\n'), 60_000);

    assert.equal((await clientsOf(session.name)).length, 1, 'one shared control client');
    assert.deepEqual(
      t.server.watchClients().map((w) => [w.session, w.subscribers]),
      [[session.name, 2]],
    );
    for (const watcher of [first, second]) {
      const frame = await rendered(watcher.chunks[0]!, 40, 10);
      assert.ok(
        frame.lines.slice(frame.cursor.row + 1).every((line) => line === '') && frame.lines[frame.cursor.row]!.length <= frame.cursor.col,
        `nothing after the cursor: ${JSON.stringify(frame.lines.slice(frame.cursor.row))}`,
      );
      const inSnapshot = numbers(frame.lines.join('\n'));
      assert.ok(inSnapshot.length >= 8, `the first frame shows the screen: ${JSON.stringify(frame.lines)}`);
      const all = numbers((await rendered(Buffer.concat(watcher.chunks), 40, 10)).lines.join('\n'));
      const start = all[0]!;
      assert.deepEqual(
        all,
        Array.from({ length: 401 - start }, (_, i) => start + i),
        'the screen then the stream, as a terminal shows them: each number once, in order, up to 400',
      );
    }

    first.stop();
    assert.equal((await clientsOf(session.name)).length, 1, 'still watched by the second');
    const pid = t.server.watchClients()[0]?.pid;
    second.stop();
    assert.deepEqual(t.server.watchClients(), []);
    await waitFor('the watch client to detach', async () => (await clientsOf(session.name)).length === 0);
    // Detached first, then its process exits and is reaped: on a busy machine a moment later.
    await waitFor('the watch client process to be gone', () => {
      try {
        process.kill(pid!, 0);
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(first.ended, undefined, 'unsubscribing does not call onEnd');
  });

  it('streams several MB intact, UTF-8 and escapes included', async () => {
    const lines: string[] = [];
    const random = randomBytes(3_000_000).toString('base64');
    for (let i = 0; i < random.length; i += 76) lines.push(random.slice(i, i + 76) + (i % 7600 === 0 ? ' é😀\t\\ \x1b[1mbold\x1b[0m' : ''));
    const data = lines.join('\n') + '\n';
    const file = path.join(t.dir, 'big.txt');
    await writeFile(file, data);
    const session = await t.server.createSession({
      name: name(),
      cwd: t.dir,
      argv: ['sh', '-c', 'stty -echo; read x; cat "$1"; sleep 100', 'sh', file],
    });
    const watcher = record(session.name);
    await waitFor('snapshot', () => watcher.chunks.length > 0);
    const started = Date.now();
    await t.server.typeText(session.paneId, '\n');
    const expected = Buffer.from(data.replaceAll('\n', '\r\n'), 'utf8');
    await waitFor('all output', () => watcher.chunks.slice(1).reduce((size, c) => size + c.length, 0) >= expected.length, 30_000);
    const streamed = Buffer.concat(watcher.chunks.slice(1));
    assert.equal(streamed.length, expected.length);
    assert.ok(streamed.equals(expected), 'byte-identical');
    const seconds = (Date.now() - started) / 1000;
    console.log(`# ${(expected.length / 1e6).toFixed(1)} MB streamed in ${seconds.toFixed(2)} s`);
    watcher.stop();
  });

  it('ends watchers when the session goes, and for a session that does not exist', async () => {
    const session = await t.server.createSession({ name: name(), cwd: t.dir, argv: ['sleep', '100'] });
    const watcher = record(session.name);
    await waitFor('snapshot', () => watcher.chunks.length > 0);
    await t.server.killSession(session.name);
    await waitFor('onEnd', () => watcher.ended !== undefined);
    assert.deepEqual(t.server.watchClients(), []);

    const missing = record('cp-no-such-session');
    await waitFor('onEnd for a missing session', () => missing.ended !== undefined);
    assert.equal(missing.chunks.length, 0);
    assert.deepEqual(t.server.watchClients(), []);
  });

  it('can skip the snapshot and still starts at a clean boundary', async () => {
    const session = await t.server.createSession({ name: name(), cwd: t.dir, argv: ['sh', '-c', 'echo before; read x; echo after; sleep 100'] });
    await waitFor('before', async () => (await t.server.capture(session.paneId)).includes('before'));
    const watcher = record(session.name, false);
    await waitFor('watch client', async () => (await clientsOf(session.name)).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await t.server.typeText(session.paneId, 'x\n');
    await waitFor('after', () => watcher.text().includes('after'));
    assert.equal(watcher.text(), 'x\r\nafter\r\n');
    watcher.stop();
  });

  it('can start with the last lines as text, ending at the cursor, halfway along a line', async () => {
    const session = await t.server.createSession({ name: name(), cwd: t.dir, argv: ['sh', '-c', 'seq 1 30; printf "prompt  "; read x; echo "after $x"; sleep 100'] });
    await waitFor('the prompt', async () => (await t.server.capture(session.paneId)).includes('prompt'));
    const watcher = record(session.name, { lines: 5 });
    await waitFor('the last lines', () => watcher.chunks.length > 0);
    assert.equal(watcher.text(), '26\r\n27\r\n28\r\n29\r\n30\r\nprompt  ', 'five lines, then the line the cursor is on, its spaces kept');
    await t.server.typeText(session.paneId, 'hi\n');
    await waitFor('the answer', () => watcher.text().includes('after hi\r\n'));
    assert.equal(watcher.text(), '26\r\n27\r\n28\r\n29\r\n30\r\nprompt  hi\r\nafter hi\r\n');
    const pipeOpen = async (): Promise<string> => (await t.tmux('display-message', '-p', '-t', session.paneId, '#{pane_pipe}')).trim();
    assert.equal(await pipeOpen(), '1', 'watched: the pane pipes its output');
    watcher.stop();
    await waitFor('the pipe closed with the last watcher', async () => (await pipeOpen()) === '0');
  });
});

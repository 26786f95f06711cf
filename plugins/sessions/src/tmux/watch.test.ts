import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type TestServer } from './testing.js';

// eslint-disable-next-line no-control-regex
const stripEscapes = (text: string): string => text.replace(/\x1b\[[?0-9;]*[A-Za-z]/g, '');
const numbers = (text: string): number[] => [...stripEscapes(text).matchAll(/n (\d+)\r?\n/g)].map((m) => Number(m[1]));

/**
 * The text a terminal holds once it has drawn a snapshot, up to the cursor the
 * snapshot leaves it at: the program may be halfway through a line (the tty
 * writes a line's text and its CR LF separately), and the stream goes on from
 * exactly there.
 */
/** The snapshot's text up to its cursor, and what is after it; `height`: the screen's rows, the last ones of the snapshot (the scrollback comes first). */
function upToCursor(snapshot: string, height: number): { text: string; below: string[] } {
  const cursor = /\x1b\[(\d+);(\d+)H$/.exec(snapshot); // eslint-disable-line no-control-regex
  assert.ok(cursor, `the snapshot ends by placing the cursor: ${JSON.stringify(snapshot.slice(-20))}`);
  const rows = stripEscapes(snapshot).split('\r\n');
  const [row, col] = [rows.length - height + Number(cursor[1]) - 1, Number(cursor[2]) - 1];
  return { text: [...rows.slice(0, row), rows[row]!.slice(0, col)].join('\r\n'), below: [rows[row]!.slice(col), ...rows.slice(row + 1)] };
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
      const snapshot = watcher.chunks[0]!.toString('utf8');
      assert.ok(snapshot.startsWith('\x1b[0m\x1b[?1049l\x1b[H\x1b[2J'), JSON.stringify(snapshot.slice(0, 40)));
      const { text, below } = upToCursor(snapshot, 10);
      assert.ok(below.every((row) => row.trim() === ''), `nothing after the cursor: ${JSON.stringify(below)}`);
      const inSnapshot = numbers(text);
      assert.ok(inSnapshot.length >= 8, `snapshot shows the screen: ${JSON.stringify(text)}`);
      const all = numbers(text + Buffer.concat(watcher.chunks.slice(1)).toString('utf8'));
      const start = all[0]!;
      assert.deepEqual(
        all,
        Array.from({ length: 401 - start }, (_, i) => start + i),
        'the screen then the stream: each number once, in order, up to 400',
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

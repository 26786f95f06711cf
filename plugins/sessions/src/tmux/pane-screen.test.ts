import assert from 'node:assert/strict';
import headless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { describe, it } from 'node:test';
import { PaneScreen } from './pane-screen.js';
import { PlainRun, plainText } from './plain-run.js';

const COLS = 80;
const ROWS = 24;
const SCROLLBACK = 100;

/** A seeded generator, so that a failing case can be run again. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

function line(pick: (n: number) => number): string {
  const length = pick(5) === 0 ? COLS + pick(2 * COLS) : pick(COLS);
  let text = '';
  for (let i = 0; i < length; i++) text += pick(40) === 0 ? '\t' : String.fromCharCode(0x20 + pick(95));
  return text;
}

/** Output as programs print it: long runs of plain lines between colours, cursor moves, scroll regions, the alternate screen. */
function output(seed: number): Buffer {
  const pick = random(seed);
  const parts: string[] = [];
  for (let segment = 0; segment < 30; segment++) {
    switch (pick(12)) {
      case 0:
        parts.push(`\x1b[${30 + pick(8)};${40 + pick(8)}m`);
        break;
      case 1:
        parts.push(`\x1b[${1 + pick(ROWS)};${1 + pick(COLS)}H`);
        break;
      case 2:
        parts.push(pick(2) ? '\x1b[2J' : '\x1b[K');
        break;
      case 3:
        parts.push(pick(2) ? `\x1b[${2 + pick(5)};${10 + pick(10)}r` : '\x1b[r');
        break;
      case 4:
        parts.push(pick(2) ? '\x1b[?1049h' : '\x1b[?1049l');
        break;
      case 5:
        parts.push('caf\u00e9 \u2713 \u4e16\u754c\r\n');
        break;
      case 6:
        // Bare line feeds: the column carries over from line to line.
        parts.push(Array.from({ length: pick(300) }, () => line(pick).slice(0, 20) + '\n').join(''));
        break;
      case 7:
        parts.push(pick(2) ? '\x1b[4h' : '\x1b[4l');
        break;
      default: {
        const lines = pick(3) === 0 ? pick(20) : pick(1000);
        parts.push(Array.from({ length: lines }, () => line(pick) + '\r\n').join(''));
        if (pick(2)) parts.push(line(pick));
      }
    }
  }
  return Buffer.from(parts.join(''), 'utf8');
}

/** `data` in pieces of random sizes, as a pipe hands it over (an escape or a character may be cut in two). */
function* pieces(data: Buffer, pick: (n: number) => number): Generator<Buffer> {
  for (let at = 0; at < data.length; ) {
    const size = 1 + pick(pick(4) === 0 ? 64 : 2048);
    yield data.subarray(at, at + size);
    at += size;
  }
}

/** What a viewer's terminal shows after `frame`: its serialization, scrollback and colours included. */
async function shown(frame: string | Uint8Array): Promise<string> {
  const terminal = new headless.Terminal({ cols: COLS, rows: ROWS, scrollback: 10 * SCROLLBACK, allowProposedApi: true });
  const serializer = new SerializeAddon();
  terminal.loadAddon(serializer);
  await new Promise<void>((resolve) => terminal.write(frame, resolve));
  const text = serializer.serialize();
  terminal.dispose();
  return text;
}

/**
 * Writes each of `data`'s pieces to the copy and to a terminal given every
 * byte; compares what each shows at the end and, if `check` is given, after
 * the pieces it picks.
 */
async function compare(data: Iterable<Buffer>, label: string, check?: () => boolean): Promise<void> {
  const copy = await PaneScreen.create({ cols: COLS, rows: ROWS }, SCROLLBACK, Buffer.alloc(0), () => undefined);
  const reference = new headless.Terminal({ cols: COLS, rows: ROWS, scrollback: SCROLLBACK, allowProposedApi: true });
  const serializer = new SerializeAddon();
  reference.loadAddon(serializer);
  const checkFrames = async (at: string): Promise<void> => {
    const frame = await copy.frame(true);
    await new Promise<void>((resolve) => reference.write('', resolve));
    assert.equal(await shown(frame), await shown('\x1b[H\x1b[2J' + serializer.serialize({ scrollback: SCROLLBACK })), `${label}, ${at}`);
  };
  let count = 0;
  for (const piece of data) {
    copy.write(piece);
    reference.write(piece);
    // A pipe's pieces come in turns of the event loop, between which the copy parses.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (check?.()) await checkFrames(`piece ${count}`);
    count++;
  }
  await checkFrames('the end');
  copy.dispose();
  reference.dispose();
}

const numbered = (count: number, end = '\r\n'): string => Array.from({ length: count }, (_, i) => `line ${i}${end}`).join('');

describe('the daemon’s copy of a screen', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`shows what a terminal given every byte shows, at any byte (output ${seed})`, async () => {
      const pick = random(seed * 7919);
      await compare(pieces(output(seed), pick), `output ${seed}`, () => pick(25) === 0);
    });
  }

  // Each case in pieces of a few lines, the first ones parsed before the run begins.
  const wide = 'x'.repeat(COLS - 10) + '\r\n';
  const inLines = (text: string): Buffer[] => text.split(/(?<=\n)/).map((line) => Buffer.from(line));
  const cases: Record<string, Buffer[]> = {
    'a long run after the cursor went up into a full screen': inLines(wide.repeat(50) + '\x1b[3;1H' + numbered(300) + 'the end'),
    'a long run below a scroll region': inLines('\x1b[2;10r\x1b[20;1H' + numbered(20) + wide.repeat(1500) + numbered(1500)),
    'a long run inside an escape that a byte of it ends': inLines('\x1b[' + '\r\n'.repeat(1500) + '5' + '\r\n'.repeat(1500) + 'A' + 'the end'),
  };
  for (const [name, data] of Object.entries(cases)) {
    it(`is right for ${name}`, async () => {
      await compare(data, name);
    });
  }
});

describe('a run of plain text', () => {
  const size = { rows: ROWS, scrollback: SCROLLBACK };

  it('keeps the last screen and scrollback of a long run, after the line feeds that stand for the rest', () => {
    const run = new PlainRun();
    const text = Buffer.from(numbered(10_000));
    for (let at = 0; at < text.length; at += 4096) {
      const chunk = text.subarray(at, at + 4096);
      run.add(chunk, plainText(chunk)!.lines, size);
    }
    const kept = Buffer.concat(run.take(ROWS));
    assert.ok(kept.length < text.length / 10, `kept ${kept.length} of ${text.length} bytes`);
    assert.deepEqual(kept.subarray(0, ROWS), Buffer.alloc(ROWS, '\n'));
    assert.equal(kept[ROWS], 0x0d, 'the kept text starts at a carriage return');
    assert.ok(text.toString().endsWith(kept.subarray(ROWS).toString()));
    assert.ok(plainText(kept.subarray(ROWS))!.lines > ROWS + SCROLLBACK);
  });

  it('keeps everything when no carriage return marks where a line starts', () => {
    const run = new PlainRun();
    const text = Buffer.from(numbered(10_000, '\n'));
    run.add(text, plainText(text)!.lines, size);
    assert.deepEqual(Buffer.concat(run.take(ROWS)), text);
  });

  it('is only text: printable ASCII, tabs, carriage returns and line feeds', () => {
    assert.deepEqual(plainText(Buffer.from('a\tb\r\n')), { lines: 1, closesSequences: true });
    assert.deepEqual(plainText(Buffer.from('123\r\n')), { lines: 1, closesSequences: false });
    for (const other of ['\x1b[0m', '\x07', '\b', 'caf\u00e9', '\x0b']) assert.equal(plainText(Buffer.from(other)), undefined, JSON.stringify(other));
  });
});

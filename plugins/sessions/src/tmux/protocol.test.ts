import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tmuxKey } from './keys.js';
import { decodeOctal, escapeFormat, hexArgs, LineSplitter, parseTmuxVersion, quote, quoteWord } from './protocol.js';
import { renderSnapshot } from './watch.js';

describe('tmux protocol helpers', () => {
  it('decodes %output data byte-exactly', () => {
    const plain = Buffer.from('héllo 😀');
    assert.equal(decodeOctal(plain), plain, 'no backslash: the same buffer, not a copy');
    assert.deepEqual(decodeOctal(Buffer.from('a\\015\\012b\\134c\\033[1m')), Buffer.from('a\r\nb\\c\x1b[1m'));
    // A UTF-8 character is raw bytes; only the backslash and control bytes are escaped.
    assert.deepEqual(decodeOctal(Buffer.from('é\\134é')), Buffer.from('é\\é'));
    // A stray backslash without three octal digits is kept.
    assert.deepEqual(decodeOctal(Buffer.from('x\\9y\\01')), Buffer.from('x\\9y\\01'));
  });

  it('splits lines across chunk boundaries without breaking UTF-8', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line.toString('utf8')));
    const data = Buffer.from('one\ntwo 😀 three\n\nfour');
    for (let i = 0; i < data.length; i += 3) splitter.push(data.subarray(i, i + 3));
    splitter.push(Buffer.from('\n'));
    assert.deepEqual(lines, ['one', 'two 😀 three', '', 'four']);
  });

  it('encodes bytes as send-keys -H arguments', () => {
    assert.equal(hexArgs(Buffer.from('a\n\x00é')), '61 0a 00 c3 a9');
    assert.equal(hexArgs(Buffer.from('abcd'), 1, 3), '62 63');
  });

  it('escapes argv elements and formats for tmux', () => {
    assert.equal(quoteWord('a;'), "'a;'");
    assert.equal(quoteWord(''), "''");
    assert.equal(quoteWord("it's"), `'it'"'"'s'`);
    assert.equal(quoteWord('a\nb\r'), `'a'"\\n"'b'"\\r"`);
    assert.equal(quoteWord('$HOME ~ \\ #{x}'), "'$HOME ~ \\ #{x}'");
    assert.throws(() => quoteWord('a\0b'));
    assert.equal(escapeFormat('/x/#{session_name}/#(id)'), '/x/##{session_name}/##(id)');
    assert.equal(quote('C-\\'), "'C-\\'");
    assert.throws(() => quote("it's"));
  });

  it('parses tmux versions', () => {
    assert.deepEqual(parseTmuxVersion('tmux 3.3a\n'), { text: 'tmux 3.3a', major: 3, minor: 3 });
    assert.deepEqual(parseTmuxVersion('tmux next-3.5'), { text: 'tmux next-3.5', major: 3, minor: 5 });
    assert.equal(parseTmuxVersion('tmux 2.9').minor, 9);
    assert.equal(parseTmuxVersion('tmux master').major, 99);
    assert.throws(() => parseTmuxVersion('bash: tmux: not found'));
  });

  it('maps SDK key names to tmux key names, and nothing else', () => {
    const expected: Record<string, string> = {
      enter: 'Enter',
      escape: 'Escape',
      tab: 'Tab',
      'shift+tab': 'BTab',
      backspace: 'BSpace',
      delete: 'DC',
      space: 'Space',
      up: 'Up',
      pageup: 'PPage',
      pagedown: 'NPage',
      insert: 'IC',
      f12: 'F12',
      'ctrl+c': 'C-c',
      'ctrl+\\': 'C-\\',
      'ctrl+[': 'C-[',
      'alt+x': 'M-x',
      'alt+1': 'M-1',
    };
    for (const [key, name] of Object.entries(expected)) assert.equal(tmuxKey(key), name, key);
    for (const bad of ['ctrl+cc', 'Enter', 'ctrl+;', 'alt+X', 'kill-server', 'enter; kill-server', 'toString', '__proto__']) assert.equal(tmuxKey(bad), undefined, bad);
  });

  it('renders a snapshot a fresh terminal can replay', () => {
    const out = renderSnapshot(['%1', '3', '1', '10', '3', '0', '1', '0', '0', '2'], ['\x1b[31mred\x1b[39m', 'abc']).toString();
    assert.equal(out, '\x1b[0m\x1b[?1049l\x1b[H\x1b[2J\x1b[31mred\x1b[39m\r\nabc\x1b[0m\x1b[r\x1b[?1l\x1b[?25h\x1b[2;4H');
    const alt = renderSnapshot(['%1', '0', '0', '10', '5', '1', '0', '1', '1', '3'], ['x']).toString();
    assert.ok(alt.includes('\x1b[?1049h') && alt.includes('\x1b[2;4r') && alt.includes('\x1b[?1h') && alt.includes('\x1b[?25l'));
    // Scrollback comes before the screen and scrolls off its top; a full-screen program's alternate screen has none.
    const history = renderSnapshot(['%1', '0', '1', '10', '2', '0', '1', '0', '0', '1'], ['old', 'a', 'b']).toString();
    assert.ok(history.includes('old\r\na\r\nb'), JSON.stringify(history));
    const altWithRows = renderSnapshot(['%1', '0', '1', '10', '2', '1', '1', '0', '0', '1'], ['old', 'a', 'b']).toString();
    assert.ok(altWithRows.includes('\x1b[2Ja\r\nb') && !altWithRows.includes('old'), JSON.stringify(altWithRows));
  });
});

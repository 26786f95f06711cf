import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerminalQueryFilter } from './terminal-queries.js';

/** What the filter lets through of `chunks`, fed one after another. */
const through = (...chunks: string[]): string => {
  const filter = new TerminalQueryFilter();
  return chunks.map((chunk) => filter.strip(Buffer.from(chunk, 'latin1')).toString('latin1')).join('');
};

describe('TerminalQueryFilter', () => {
  it('takes out what programs ask of their terminal', () => {
    const queries = ['\x1b[c', '\x1b[0c', '\x1b[>c', '\x1b[>0c', '\x1b[=c', '\x1b[5n', '\x1b[6n', '\x1b[?6n', '\x1b[?2026$p', '\x1b[4$p', '\x1b[>q', '\x1b[?u'];
    const strings = ['\x1bP$qm\x1b\\', '\x1bP+q544e\x1b\\', '\x1b]11;?\x07', '\x1b]10;?\x1b\\', '\x1b]4;1;?\x07'];
    for (const query of [...queries, ...strings]) assert.equal(through(`a${query}b`), 'ab', JSON.stringify(query));
  });

  it('keeps everything else as it is: colours, moves, titles, colours set, key modes, clipboard', () => {
    const kept = '\x1b[31mred\x1b[0m\x1b[2J\x1b[10;5H\x1b[?1049h\x1b]0;title\x07\x1b]11;#000000\x07\x1b[>4;1m\x1b[>1u\x1b]52;c;aGk=\x07\x1b7\x1b(B\x1b=plain \u00e9';
    assert.equal(through(kept), kept);
  });

  it('finds a query cut between two chunks, anywhere, and holds nothing back once it is whole', () => {
    const text = 'before\x1b[>0;276;0c\x1b]11;?\x1b\\after';
    for (let cut = 0; cut <= text.length; cut++) assert.equal(through(text.slice(0, cut), text.slice(cut)), 'beforeafter', `cut at ${cut}`);
    assert.equal(through('colour \x1b[3', '1mred'), 'colour \x1b[31mred');
  });

  it('lets a long unfinished string through rather than hold it without end', () => {
    const copy = `\x1b]52;c;${'A'.repeat(10_000)}`;
    assert.equal(through(copy, '\x07done'), `${copy}\x07done`);
  });

  it('a query after an escape that ends at once (ESC ESC, ESC 7) is still seen', () => {
    assert.equal(through('\x1b\x1b[6n\x1b7\x1b[c.'), '\x1b\x1b7.');
  });
});

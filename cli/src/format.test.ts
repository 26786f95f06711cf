import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, formatAnswer, formatCommand, formatDuration, formatEvent, formatFields, formatTable, printable, statusText, summarizePayload } from './format.js';

describe('formatTable', () => {
  it('pads every column but the last, two spaces apart', () => {
    const table = formatTable(['ID', 'NAME', 'CWD'], [['ab12cd34', 'x', '/tmp'], ['ef', 'longer name', '/']]);
    assert.equal(table, ['ID        NAME         CWD', 'ab12cd34  x            /tmp', 'ef        longer name  /'].join('\n'));
  });

  it('escapes control characters in cells', () => {
    assert.equal(formatTable(['A'], [['a\u001b[31mb']]), 'A\na\\x1b[31mb');
  });
});

describe('formatFields', () => {
  it('aligns values', () => {
    assert.equal(formatFields([['id', '1'], ['provider', 'shell']]), 'id:        1\nprovider:  shell');
  });
});

describe('formatDuration / formatAge', () => {
  it('uses the largest whole unit', () => {
    assert.deepEqual([0, 59.9, 60, 3599, 3600, 86399, 86400 * 3].map(formatDuration), ['0s', '59s', '1m', '59m', '1h', '23h', '3d']);
  });

  it('measures from an ISO time, never negative', () => {
    const now = Date.parse('2025-01-01T00:10:00Z');
    assert.equal(formatAge('2025-01-01T00:00:00Z', now), '10m');
    assert.equal(formatAge('2025-01-01T00:11:00Z', now), '0s');
  });
});

describe('statusText', () => {
  it('adds the detail and the exit code', () => {
    assert.equal(statusText({ status: 'running', statusDetail: null, exitCode: null }), 'running');
    assert.equal(statusText({ status: 'waiting', statusDetail: 'permission', exitCode: null }), 'waiting (permission)');
    assert.equal(statusText({ status: 'exited', statusDetail: null, exitCode: 0 }), 'exited (code 0)');
    assert.equal(statusText({ status: 'exited', statusDetail: 'killed', exitCode: 137 }), 'exited (killed, code 137)');
  });
});

describe('formatCommand', () => {
  it('quotes what a shell would split or expand', () => {
    assert.equal(formatCommand(['bash', '-c', "echo 'hi' $HOME", 'a=b', '']), `bash -c 'echo '\\''hi'\\'' $HOME' a=b ''`);
  });
});

describe('summarizePayload / formatEvent', () => {
  it('writes objects as key=value pairs, quoting what needs it', () => {
    assert.equal(summarizePayload({ from: 'idle', to: 'working', detail: 'two words', n: 3, ok: true, x: null }), 'from=idle to=working detail="two words" n=3 ok=true x=null');
  });

  it('handles other payloads and truncates', () => {
    assert.equal(summarizePayload(null), '');
    assert.equal(summarizePayload('plain'), 'plain');
    assert.equal(summarizePayload([1, 2]), '[1,2]');
    assert.equal(summarizePayload({ text: 'a'.repeat(50) }, 20), `text=${'a'.repeat(14)}…`);
  });

  it('prints one safe line per event', () => {
    const event = { id: 7, sessionId: 's', type: 'session.output', ts: '2025-01-01T00:00:00.000Z', source: 'sessions', payload: { text: 'a\nb' } };
    assert.equal(formatEvent(event), '2025-01-01T00:00:00.000Z session.output text="a\\nb"');
    assert.equal(formatEvent({ ...event, payload: { c: 'x\u0007' } }), '2025-01-01T00:00:00.000Z session.output c=x\\x07');
  });

  it('printable leaves ordinary text alone', () => {
    assert.equal(printable('héllo → ✔'), 'héllo → ✔');
  });
});

describe('formatAnswer', () => {
  it('prints a list of objects, alone or as an object’s only field, as a table', () => {
    const table = 'ID  NAME   LOUD\n1   polly  true\n2   -      {"a":1}';
    assert.equal(formatAnswer({ parrots: [{ id: 1, name: 'polly', loud: true }, { id: 2, loud: { a: 1 } }] }), table);
    assert.equal(formatAnswer([{ id: 1, name: 'polly', loud: true }, { id: 2, loud: { a: 1 } }]), table);
    assert.equal(formatAnswer({ parrots: [] }), 'nothing');
  });

  it('prints an object as fields, anything else as JSON', () => {
    assert.equal(formatAnswer({ name: 'polly', loud: false }), 'name:  polly\nloud:  false');
    assert.equal(formatAnswer([1, 2]), '[\n  1,\n  2\n]');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { typedText } from './typed-text.js';

test('a bracketed paste is judged as the pasted text', () => {
  assert.equal(typedText('\u001b[200~rm -rf x\u001b[201~'), 'rm -rf x');
  assert.equal(typedText('ls\r'), 'ls\r');
});

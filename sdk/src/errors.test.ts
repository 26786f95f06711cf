import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodePiperError, isCodePiperError } from './errors.js';
import type * as Errors from './errors.js';

test('a CodePiperError is known as one under a subclass’s name and from another copy of the SDK; other errors are not', async () => {
  class TmuxLikeError extends CodePiperError {
    constructor() {
      super('not_found', "can't find pane: %3");
      this.name = 'TmuxLikeError';
    }
  }
  // A plugin that bundles its own SDK: the same file, loaded as a module of its own.
  const copy = (await import(`./errors.js?copy=${Date.now()}`)) as typeof Errors;
  assert.notEqual(copy.CodePiperError, CodePiperError);

  for (const error of [new CodePiperError('session_ended', 'ended'), new TmuxLikeError(), new copy.CodePiperError('name_taken', 'taken')]) {
    assert.ok(isCodePiperError(error), error.name);
  }
  const lookalike = Object.assign(new Error('no'), { name: 'CodePiperError', code: 'not_found', status: 404 });
  for (const error of [new Error('plain'), lookalike, { code: 'not_found', status: 404 }, null, 'text']) assert.equal(isCodePiperError(error), false, String(error));
});

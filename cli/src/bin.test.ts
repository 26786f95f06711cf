import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CODEPIPER_VERSION } from '@codepiper/sdk';

describe('the entry', () => {
  it('still runs by the name 0.1.0 gave it, which the units its `daemon install` wrote name', () => {
    const old = fileURLToPath(new URL('../bin/codepiper.js', import.meta.url));
    assert.match(execFileSync(process.execPath, [old, 'daemon', '--help'], { encoding: 'utf8' }), /\$ codepiper daemon \[--detach\]/);
    assert.equal(execFileSync(process.execPath, [old, '--version'], { encoding: 'utf8' }).trim(), CODEPIPER_VERSION);
  });
});

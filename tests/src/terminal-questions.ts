import assert from 'node:assert/strict';

/**
 * A program that prints `waiting`, and once a line comes asks its terminal
 * for its device attributes (both kinds) and the cursor position, prints
 * `asked`, then runs `then`. Its terminal does not echo: an answer shows only
 * where the program prints what it reads (`then` = `cat -v`).
 */
export const askingProgram = (then: string): string[] => ['sh', '-c', `stty -echo; echo waiting; read -r _; printf '\\033[c\\033[>c\\033[6n'; echo asked; exec ${then}`];

/** `read`, a line `cat -v` printed after askingProgram's questions, holds one answer to each: tmux's, and no other. */
export function assertAnsweredOnce(read: string): void {
  assert.equal(read.match(/\^\[\[\?[\d;]*c/g)?.length, 1, read);
  assert.equal(read.match(/\^\[\[>[\d;]*c/g)?.length, 1, read);
  assert.equal(read.match(/\^\[\[\d+;\d+R/g)?.length, 1, read);
}

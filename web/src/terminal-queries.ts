import type { Terminal } from '@xterm/xterm';

// Handled, so xterm.js's own answer is not sent.
const ignore = () => true;

/**
 * The page's terminal mirrors a tmux pane, and tmux answers what the programs
 * in it ask of their terminal (device attributes, status and cursor position,
 * and what else it knows). An answer from here would come once per open page,
 * none without one, and reach the program after tmux's as typed text
 * (`0;276;0c` at a shell prompt): the page answers nothing.
 */
export function leaveQueriesToTmux(term: Terminal): void {
  const { parser } = term;
  parser.registerCsiHandler({ final: 'c' }, ignore); // DA1
  parser.registerCsiHandler({ prefix: '>', final: 'c' }, ignore); // DA2
  parser.registerCsiHandler({ final: 'n' }, ignore); // DSR
  parser.registerCsiHandler({ prefix: '?', final: 'n' }, ignore);
  parser.registerCsiHandler({ intermediates: '$', final: 'p' }, ignore); // DECRQM
  parser.registerCsiHandler({ prefix: '?', intermediates: '$', final: 'p' }, ignore);
  parser.registerDcsHandler({ intermediates: '$', final: 'q' }, ignore); // DECRQSS
  // A colour is set or asked for (`?`); only the asking is left to tmux.
  for (const osc of [4, 10, 11, 12]) parser.registerOscHandler(osc, (data) => data.split(';').includes('?'));
}

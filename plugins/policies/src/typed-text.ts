/**
 * Text typed into a session as input policies judge it. A paste into the
 * dashboard's live terminal arrives in one piece, wrapped in bracketed-paste
 * markers when the program asked for them (bash 5.1 and later does):
 * judged without them, so `rm -rf x` pasted is `rm -rf x`.
 */
const PASTE_START = '\u001b[200~';
const PASTE_END = '\u001b[201~';

export const typedText = (input: string): string => input.replaceAll(PASTE_START, '').replaceAll(PASTE_END, '');

#!/usr/bin/env node
// Parrot: the terminal agent this example integrates, a stand-in for yours.
// It repeats every prompt, the way an agent answers one, and leaves on /quit.
import readline from 'node:readline';

const loud = process.argv.includes('--loud');
const terminal = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: 'parrot> ' });

console.log('Parrot 1.0: I repeat what you say; /quit leaves.');
terminal.prompt();
terminal.on('line', (line) => {
  const said = line.trim();
  if (said === '/quit') {
    console.log('Bye!');
    terminal.close();
    return;
  }
  if (said) console.log(`Parrot says: ${loud ? said.toUpperCase() : said}`);
  terminal.prompt();
});
terminal.on('SIGINT', () => {
  console.log('\n(interrupted; /quit leaves)');
  terminal.prompt();
});
terminal.on('close', () => process.exit(0));

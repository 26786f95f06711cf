import { UsageError } from './errors.js';

/**
 * A value typed or piped on standard input (never a command-line argument,
 * which `ps` shows to every user): all of it, less one trailing newline. At a
 * terminal, the characters are not echoed.
 */
export async function readSecretInput(prompt: string): Promise<string> {
  const stdin = process.stdin;
  const text = stdin.isTTY ? await readHidden(prompt) : await readAll();
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new UsageError('nothing was given on standard input');
  return value;
}

/** All of standard input, as text. */
export async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from the terminal with echo off; Ctrl-C aborts. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
